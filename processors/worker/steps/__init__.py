"""One module per stage of :mod:`processors.worker.topology`: ``build(runtime)`` returns the
stage's step, a function from a :class:`~processors.worker.adapter.Batch` to an
:class:`~processors.worker.adapter.Out`. Parsing, sends, dead letters, metrics and acks are
the adapter's; the decisions are the pure functions of :mod:`processors.stages`."""
