"""Structured logs: one JSON object a line (or plain text), fields from ``extra=``."""

from __future__ import annotations

from typing import Any

from newsflow.settings import Settings


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
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default"},
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
