"""Kafka and Elasticsearch clients built from one :class:`Settings` (credentials included)."""

from __future__ import annotations

from typing import Any

from newsflow.core.settings import Settings


def es_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for (Async)Elasticsearch: URL, auth and TLS from the settings."""
    options: dict[str, Any] = {"hosts": [settings.es_url], "request_timeout": 30}
    if settings.es_api_key is not None:
        options["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        options["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_ca_certs is not None:
        options["ca_certs"] = str(settings.es_ca_certs)
    if settings.es_ssl_fingerprint:
        options["ssl_assert_fingerprint"] = settings.es_ssl_fingerprint
    return options


def es_client(settings: Settings) -> Any:
    """A synchronous Elasticsearch client (for command-line tools)."""
    from elasticsearch import Elasticsearch

    return Elasticsearch(**es_options(settings))


def async_es_client(settings: Settings) -> Any:
    """An asyncio Elasticsearch client (for workers)."""
    from elasticsearch import AsyncElasticsearch

    return AsyncElasticsearch(**es_options(settings))


def kafka_options(settings: Settings) -> dict[str, Any]:
    """Connection and security keyword arguments shared by kafka-python clients."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap.split(","),
        "security_protocol": settings.kafka_security_protocol,
        # An unreachable Kafka is an error after this long, not a 30-second wait.
        "bootstrap_timeout_ms": 10_000,
    }
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password is not None:
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_ssl_cafile is not None:
        options["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    return options


def checked_kafka_options(settings: Settings) -> dict[str, Any]:
    """:func:`kafka_options`, once the broker was seen not to refuse them (one line if it does).

    See :mod:`newsflow.core.kafka_check`: a wrong password or CA is named at once, not reported
    after 10 s as "cannot reach Kafka".
    """
    from newsflow.core.kafka_check import check_kafka

    check_kafka(settings)
    return kafka_options(settings)


def kafka_producer(settings: Settings, **overrides: Any) -> Any:
    """A kafka-python producer that confirms every write: acks=all, idempotent, compressed
    with ``NEWSFLOW_KAFKA_COMPRESSION`` (gzip by default)."""
    from kafka import KafkaProducer

    codec = settings.kafka_compression
    config: dict[str, Any] = {
        **checked_kafka_options(settings),
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": None if codec == "none" else codec,
        "linger_ms": 20,
        "retries": 10,
        "max_in_flight_requests_per_connection": 5,
        "client_id": f"newsflow-{settings.namespace}-producer",
    }
    config.update(overrides)
    return KafkaProducer(**config)


def kafka_admin(settings: Settings) -> Any:
    """A kafka-python admin client."""
    from kafka.admin import KafkaAdminClient

    return KafkaAdminClient(**checked_kafka_options(settings), client_id="newsflow-admin")
