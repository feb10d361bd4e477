"""No secret of the settings reaches a log line, whoever logs it and at whatever level."""

from __future__ import annotations

import logging
import logging.config

import pytest

from newsflow.core.logs import MASK, RedactSecrets, logging_config
from newsflow.core.settings import load_settings


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_a_library_logging_its_configuration_at_debug_shows_no_password() -> None:
    redact = RedactSecrets(["pw-123456", "key-abcdef"])
    handler = Collect()
    handler.addFilter(redact)
    log = logging.getLogger("tests.unit.test_logs.kafka")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    try:
        # kafka-python's own line, as it logs it at DEBUG.
        log.debug(
            "Starting KafkaAdminClient with configuration: %s", {"sasl_plain_password": "pw-123456"}
        )
        log.info("api key %s and %s", "key-abcdef", "pw-123456")
        log.info("nothing secret here")
    finally:
        log.removeHandler(handler)
    assert handler.lines == [
        f"Starting KafkaAdminClient with configuration: {{'sasl_plain_password': '{MASK}'}}",
        f"api key {MASK} and {MASK}",
        "nothing secret here",
    ]


@pytest.mark.parametrize(
    "setting", ["kafka_sasl_password", "es_password", "es_api_key", "web_token", "ui_token"]
)
def test_every_secret_setting_is_redacted_by_the_processes_configuration(setting: str) -> None:
    extra = {"es_username": "u"} if setting == "es_password" else {}
    settings = load_settings(**{setting: "the-secret-value"}, **extra)
    config = logging_config(settings)
    assert config["handlers"]["stderr"]["filters"] == ["secrets"]
    assert config["filters"]["secrets"]["secrets"] == ["the-secret-value"]
