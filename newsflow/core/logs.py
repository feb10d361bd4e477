"""Structured logs: one JSON object a line (or plain text), fields from ``extra=``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from newsflow.core.settings import Settings

MASK = "**********"


class RedactSecrets(logging.Filter):
    """Replaces every secret of the settings in a record's message by ``**********``.

    Defence in depth: newsflow never logs a secret, but a library at DEBUG may (kafka-python
    logs its whole configuration, the SASL password included).
    """

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message when it holds a secret; never drop a record."""
        if self.secrets:
            message = record.getMessage()
            if any(secret in message for secret in self.secrets):
                for secret in self.secrets:
                    message = message.replace(secret, MASK)
                record.msg, record.args = message, None
        return True


def secrets_of(settings: Settings) -> list[str]:
    """The secret values among the settings."""
    fields = (
        settings.es_api_key,
        settings.es_password,
        settings.kafka_sasl_password,
        settings.web_token,
        settings.ui_token,
    )
    return [f.get_secret_value() for f in fields if f is not None]


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping for every newsflow process."""
    formatter: dict[str, Any]
    if settings.log_format == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
    else:
        formatter = {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "filters": {"secrets": {"()": RedactSecrets, "secrets": secrets_of(settings)}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["secrets"],
            },
        },
        "root": {"level": settings.log_level.upper(), "handlers": ["stderr"]},
        # Faust's per-message debug chatter is not for production logs.
        "loggers": {"aiokafka": {"level": "WARNING"}, "kafka": {"level": "WARNING"}},
    }


def configure(settings: Settings) -> None:
    """Install the logging configuration (for commands that are not Faust workers)."""
    import logging.config

    logging.config.dictConfig(logging_config(settings))
    logging.captureWarnings(True)
