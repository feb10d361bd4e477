"""The exception tree shared by every newsflow package."""

from __future__ import annotations


class PipelineError(Exception):
    """Root of newsflow's own errors."""


class ConfigError(PipelineError):
    """A setting or command-line argument is wrong; the message is one line for the user."""


class InvalidArticle(PipelineError):
    """A message can never be processed: it goes to the dead-letter topic.

    ``kind`` is a short machine-readable error class (``not_json``, ``schema``, ...);
    the message is the human-readable reason.
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


class RetryableError(PipelineError):
    """A transient failure (service down, overloaded): retry after ``retry_after`` seconds."""

    def __init__(self, reason: str, retry_after: float = 1.0) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class StackError(PipelineError):
    """The local Kafka/Elasticsearch stack cannot be fetched, started or reached."""
