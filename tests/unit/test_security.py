"""Credentials reach the clients, and nowhere else; listeners default to this machine.

No server is needed: clients are built but not connected, and commands run against closed
ports.
"""

from __future__ import annotations

import base64
import gc
import logging
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import certifi
import faust
import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from newsflow.cli import cli, run_cli
from newsflow.core.clients import es_client, es_options, kafka_options
from newsflow.core.errors import ConfigError
from newsflow.core.settings import Settings, load_settings
from processors.worker.app import _credentials, create_app

ES_PASSWORD = "es-Pa55word-never-shown"
ES_API_KEY = "ZXMta2V5LW5ldmVyLXNob3du"
KAFKA_PASSWORD = "kafka-Pa55word-never-shown"
SECRETS = (ES_PASSWORD, ES_API_KEY, KAFKA_PASSWORD)
CA_FILE = Path(certifi.where())  # any existing PEM bundle will do
FINGERPRINT = "AB:CD:" + "EF" * 30


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in [k for k in os.environ if k.startswith("NEWSFLOW_")]:
        monkeypatch.delenv(name)
    yield monkeypatch


def _settings(**values: object) -> Settings:
    return load_settings(namespace="security", **values)


def _sasl_ssl() -> Settings:
    return _settings(
        kafka_bootstrap="broker.example:9093",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="newsflow",
        kafka_sasl_password=KAFKA_PASSWORD,
        kafka_ssl_cafile=CA_FILE,
    )


# --- Elasticsearch -------------------------------------------------------------------------


def test_an_api_key_is_sent_as_an_api_key_header() -> None:
    settings = _settings(es_url="https://es.example:9200", es_api_key=ES_API_KEY)
    assert es_options(settings)["api_key"] == ES_API_KEY
    client = es_client(settings)
    assert client._headers["authorization"] == f"ApiKey {ES_API_KEY}"


def test_user_and_password_are_sent_as_basic_auth_with_tls_checked() -> None:
    settings = _settings(
        es_url="https://es.example:9200",
        es_username="newsflow",
        es_password=ES_PASSWORD,
        es_ca_certs=CA_FILE,
    )
    client = es_client(settings)
    token = base64.b64encode(f"newsflow:{ES_PASSWORD}".encode()).decode()
    assert client._headers["authorization"] == f"Basic {token}"
    (node,) = client.transport.node_pool.all()
    assert node.config.ca_certs == str(CA_FILE) and node.config.verify_certs


def test_a_certificate_fingerprint_is_checked() -> None:
    settings = _settings(es_url="https://es.example:9200", es_ssl_fingerprint=FINGERPRINT)
    (node,) = es_client(settings).transport.node_pool.all()
    assert node.config.ssl_assert_fingerprint == FINGERPRINT


# --- Kafka ---------------------------------------------------------------------------------


def test_sasl_ssl_reaches_every_kafka_python_client() -> None:
    options = kafka_options(_sasl_ssl())
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "newsflow",
        KAFKA_PASSWORD,
    )
    assert options["ssl_cafile"] == str(CA_FILE)
    for client in (KafkaProducer, KafkaConsumer, KafkaAdminClient):
        unknown = set(options) - set(client.DEFAULT_CONFIG)
        assert not unknown, f"{client.__name__} has no option {unknown}"


def test_sasl_ssl_reaches_the_faust_worker() -> None:
    settings = _sasl_ssl()
    credentials = _credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("newsflow", KAFKA_PASSWORD)
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert isinstance(credentials.ssl_context, ssl.SSLContext)
    assert credentials.ssl_context.verify_mode == ssl.CERT_REQUIRED
    app, _ = create_app(settings)
    assert app.conf.broker_credentials is credentials or (
        app.conf.broker_credentials.username == "newsflow"
    )


def test_ssl_without_sasl_gives_the_worker_a_tls_context() -> None:
    settings = _settings(kafka_security_protocol="SSL", kafka_ssl_cafile=CA_FILE)
    assert isinstance(_credentials(settings), ssl.SSLContext)
    assert kafka_options(settings)["security_protocol"] == "SSL"
    assert _credentials(_settings()) is None  # PLAINTEXT


def test_sasl_plaintext_has_no_tls_context() -> None:
    settings = _settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="newsflow",
        kafka_sasl_password=KAFKA_PASSWORD,
    )
    credentials = _credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials) and credentials.ssl_context is None


# --- settings that would silently connect without the credentials meant --------------------


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "NEWSFLOW_KAFKA_SASL_MECHANISM"),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "PLAIN"},
            "NEWSFLOW_KAFKA_SASL_USERNAME",
        ),
        (
            {"kafka_security_protocol": "PLAINTEXT", "kafka_sasl_mechanism": "PLAIN"},
            "NEWSFLOW_KAFKA_SECURITY_PROTOCOL",
        ),
        ({"kafka_security_protocol": "TLS"}, "NEWSFLOW_KAFKA_SECURITY_PROTOCOL"),
        ({"es_username": "newsflow"}, "NEWSFLOW_ES_PASSWORD"),
        ({"es_password": ES_PASSWORD}, "NEWSFLOW_ES_USERNAME"),
        ({"es_ssl_fingerprint": "AB:CD"}, "NEWSFLOW_ES_SSL_FINGERPRINT"),
        ({"es_ca_certs": "/no/such/ca.pem"}, "NEWSFLOW_ES_CA_CERTS"),
        ({"kafka_ssl_cafile": "/no/such/ca.pem"}, "NEWSFLOW_KAFKA_SSL_CAFILE"),
        ({"es_url": f"https://newsflow:{ES_PASSWORD}@es.example:9200"}, "NEWSFLOW_ES_URL"),
    ],
)
def test_incomplete_or_misplaced_credentials_are_a_config_error(
    values: dict[str, object], variable: str
) -> None:
    with pytest.raises(ConfigError) as error:
        _settings(**values)
    message = str(error.value)
    assert message.startswith(variable), message
    assert "\n" not in message and not any(secret in message for secret in SECRETS)


# --- secrets stay secret -------------------------------------------------------------------


def _all_secrets_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "NEWSFLOW_NAMESPACE": "security",
        "NEWSFLOW_ES_USERNAME": "newsflow",
        "NEWSFLOW_ES_PASSWORD": ES_PASSWORD,
        "NEWSFLOW_ES_API_KEY": ES_API_KEY,
        "NEWSFLOW_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "NEWSFLOW_KAFKA_SASL_MECHANISM": "PLAIN",
        "NEWSFLOW_KAFKA_SASL_USERNAME": "newsflow",
        "NEWSFLOW_KAFKA_SASL_PASSWORD": KAFKA_PASSWORD,
        "NEWSFLOW_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "NEWSFLOW_ES_URL": "http://127.0.0.1:1",
        "NEWSFLOW_LOG_LEVEL": "DEBUG",
    }.items():
        monkeypatch.setenv(name, value)


def test_secrets_are_not_in_the_settings_repr_str_or_dump(clean_env: pytest.MonkeyPatch) -> None:
    _all_secrets_set(clean_env)
    settings = load_settings()
    shown = repr(settings) + str(settings) + settings.model_dump_json() + str(settings.model_dump())
    assert not [s for s in SECRETS if s in shown]
    assert repr(_credentials(settings)) and KAFKA_PASSWORD not in repr(_credentials(settings))


@pytest.fixture
def newsflow_logging() -> Iterator[None]:
    """Our logging configuration, as newsflow processes install it; undone afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("kafka", "aiokafka")}
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)


@pytest.mark.parametrize(
    "args", [["deadletter", "list"], ["bootstrap"]], ids=["elasticsearch", "kafka"]
)
# kafka-python leaves the sockets of a client that failed to bootstrap to the collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_commands_log_and_print_no_secret_even_at_debug(
    clean_env: pytest.MonkeyPatch,
    newsflow_logging: None,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
) -> None:
    from newsflow.core.logs import configure

    _all_secrets_set(clean_env)
    configure(load_settings())  # DEBUG, to stderr
    code = run_cli(cli, args)  # the service is a closed port: it fails, after logging
    out, err = capsys.readouterr()
    assert code == 2 and "cannot reach" in err
    assert err.count("\n") > 1, "nothing was logged: the test would prove nothing"
    assert not [s for s in SECRETS if s in out + err]
    gc.collect()  # here, not in a later test


# --- listeners bind to this machine by default --------------------------------------------


def test_the_worker_web_server_binds_to_localhost_by_default() -> None:
    settings = _settings()
    assert settings.web_host == "127.0.0.1"
    app, _ = create_app(settings)
    assert app.conf.web_bind == "127.0.0.1"


def test_the_ingest_endpoint_binds_to_localhost_by_default() -> None:
    ingest = pytest.importorskip("producers.ingest")
    assert ingest.load_ingest_settings().host == "127.0.0.1"


def test_the_ui_binds_to_localhost_by_default() -> None:
    ui_cli = pytest.importorskip("newsflow.ui.cli")
    (host,) = [p for p in ui_cli.ui.params if p.name == "host"]
    assert host.default == "127.0.0.1"
