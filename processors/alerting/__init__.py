"""Keyword alerts: one module per concern.

Pure (no I/O): ``subscription`` (the model, its throttle, parsing), ``query`` (query safety,
tokens, what a match needs), ``searches`` (Elasticsearch request bodies), ``matching`` (which
articles a subscription may match, alerts from hits), ``throttle``, ``delivery`` (states on
the alert document), ``texts``. Adapters: ``elastic`` (requests and their retries),
``cache`` (subscriptions as workers see them), ``stage`` (:class:`AlertStage`, the record
channels), ``notify`` (the delivery channels), ``channels`` (the registry, one module each).
"""
