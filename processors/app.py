"""The Faust app: three thin agents around :class:`processors.runtime.Runtime`.

``enrich`` (``<ns>.raw`` → ``<ns>.enriched`` or ``<ns>.deadletter``), ``sink``
(``<ns>.enriched`` → ``<ns>-articles``) and ``deadletters`` (→ ``<ns>-deadletter``).
Each takes batches with ``noack_take`` and acks them only after the runtime has confirmed
every outcome: an exception or a crash leaves the offsets uncommitted, so the batch is
read again (all writes are idempotent).
"""

from __future__ import annotations

import json
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from newsflow.names import Names
from newsflow.settings import Settings
from processors.runtime import Runtime


def _credentials(settings: Settings) -> Any:
    if settings.kafka_sasl_mechanism:
        import ssl

        context = None
        if settings.kafka_security_protocol == "SASL_SSL":
            context = ssl.create_default_context(
                cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
            )
        password = settings.kafka_sasl_password
        return faust.SASLCredentials(
            username=settings.kafka_sasl_username,
            password=password.get_secret_value() if password else None,
            mechanism=settings.kafka_sasl_mechanism,
            ssl_context=context,
        )
    if settings.kafka_security_protocol == "SSL":
        import ssl

        cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        return ssl.create_default_context(cafile=cafile)
    return None


def create_app(settings: Settings) -> tuple[faust.App, Runtime]:
    """The worker's Faust app for ``settings.namespace`` and its runtime."""
    names = Names(settings.namespace)
    app = faust.App(
        names.app_id,
        broker=[f"kafka://{h.strip()}" for h in settings.kafka_bootstrap.split(",")],
        broker_credentials=_credentials(settings),
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        web_host=settings.web_host,
    )
    runtime = Runtime(settings, names)

    def topic(name: str) -> Any:
        return app.topic(name, key_serializer="raw", value_serializer="raw")

    raw, enriched, dlq = (
        topic(names.raw_topic),
        topic(names.enriched_topic),
        topic(names.deadletter_topic),
    )

    async def send_enriched(key: bytes | None, value: bytes) -> Any:
        return await enriched.send(key=key, value=value)

    async def send_dead_letter(key: bytes | None, value: bytes) -> Any:
        return await dlq.send(key=key, value=value)

    @app.agent(raw, name="enrich")
    async def enrich_agent(stream: Any) -> None:
        async for events in stream.noack_take(settings.batch_size, within=settings.batch_within):
            await runtime.handle_raw(events, send_enriched, send_dead_letter)
            for event in events:
                await stream.ack(event)

    @app.agent(enriched, name="sink")
    async def sink_agent(stream: Any) -> None:
        async for events in stream.noack_take(
            4 * settings.batch_size, within=settings.batch_within
        ):
            await runtime.handle_enriched(events, send_dead_letter)
            for event in events:
                await stream.ack(event)

    @app.agent(dlq, name="deadletters")
    async def deadletter_agent(stream: Any) -> None:
        async for events in stream.noack_take(settings.batch_size, within=settings.batch_within):
            await runtime.handle_dead_letters(events)
            for event in events:
                await stream.ack(event)

    @app.task
    async def warm_up() -> None:
        await runtime.start()

    @app.on_before_shutdown.connect
    async def close(app: faust.App, **kwargs: Any) -> None:
        await runtime.stop()

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        ready = runtime.enricher is not None
        body = json.dumps({"status": "ok" if ready else "starting"})
        return web.text(body, content_type="application/json", status=200 if ready else 503)

    @app.page("/metrics")
    async def prometheus(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    return app, runtime
