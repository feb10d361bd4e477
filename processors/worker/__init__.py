"""The Faust worker: agents, adapters, sinks and the spaCy pool."""
