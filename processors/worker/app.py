"""The Faust app: one agent per row of :mod:`processors.worker.topology`, each running its
stage's step through :mod:`processors.worker.adapter`; the ``notify`` agent of
:mod:`processors.alerting.notify`; ``/healthz`` and ``/metrics``.

Each agent takes batches with ``noack_take`` and acks them only after the adapter has
confirmed every outcome: an exception or a crash leaves the offsets uncommitted, so the
batch is read again, and every write is idempotent (keyed by stable ids, decisions stored
per article id).
"""

from __future__ import annotations

import json
from typing import Any, cast

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from newsflow.core import webport
from newsflow.core.names import Names
from newsflow.core.settings import Settings
from newsflow.core.webauth import token_middleware
from processors.alerting.notify import register_notifier
from processors.worker import holes, patches, undecodable
from processors.worker.adapter import Adapter, agent_loop
from processors.worker.health import ProgressTracker, observe, record_lag
from processors.worker.runtime import Runtime
from processors.worker.topology import STAGES, Stage

# See the producer settings in create_app (measured by ``make bench``, docs/SCALING.md).
PRODUCER_LINGER_SECONDS = 0.005
PRODUCER_BATCH_BYTES = 256 * 1024


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


def create_app(settings: Settings, stages: tuple[Stage, ...] = STAGES) -> tuple[faust.App, Runtime]:
    """The worker's Faust app for ``settings.namespace`` and its runtime."""
    names = Names(settings.namespace)
    datadir = settings.home / "faust" / settings.namespace
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        names.app_id,
        broker=[f"kafka://{h.strip()}" for h in settings.kafka_bootstrap.split(",")],
        broker_credentials=_credentials(settings),
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        # Faust's producer sends each record as soon as it can (linger 0) in batches of at
        # most 16 KiB: with dozens of records per article (table changelogs, four hops) the
        # profile of a worker showed a third of its CPU in socket writes of tiny produce
        # requests, and Kafka's JVM busy answering them. A few milliseconds of linger and
        # larger batches make them a handful of requests per batch of articles.
        producer_linger=PRODUCER_LINGER_SECONDS,
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        web_port=settings.web_port,
        # The web port in the client id: how `newsflow status` shows each worker's port.
        broker_client_id=webport.client_id(settings.web_port),
        web_bind=settings.web_host,
        web_host=settings.web_host,
        # Faust's own pages (/table/..., /router/...) show table contents: token-guarded too.
        web_application_options={"middlewares": [token_middleware(settings.web_token)]},
        # Faust keeps table data and its pid lock under datadir: not in the working directory.
        datadir=str(datadir),
    )
    # Faust and aiokafka fixes (rewind, holes, undecodable): refused on other releases.
    patches.install()
    partitions = names.topic_partitions(settings.partitions)
    topics = {
        name: app.topic(name, key_serializer="raw", value_serializer="raw", partitions=count)
        for name, count in partitions.items()
    }

    async def send(topic: str, key: bytes | None, value: bytes) -> Any:
        return await topics[topic].send(key=key, value=value)

    runtime = Runtime(settings, names, send)
    progress = ProgressTracker()  # for /healthz: is every partition moving or caught up?
    # Tables before agents, as Faust's own examples declare them.
    tables = {s.table: _table(app, s.table) for s in stages if s.table is not None}
    for stage in stages:
        if stage.build is not None:
            _add_stage(app, stage, runtime, topics, progress, tables.get(stage.table or ""))
    register_notifier(app, topics[names.alerts_topic], settings)
    healer = holes.HoleHealer()

    async def heal_holes() -> None:
        await healer.check(app.consumer)

    app.timer(interval=holes.CHECK_EVERY_SECONDS)(heal_holes)

    async def warm_up() -> None:
        await runtime.start()

    async def close(sender: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        await runtime.stop()

    app.task(warm_up)
    app.on_before_shutdown.connect(cast(Any, close))

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        if runtime.enricher is None:  # warming up, or waiting for a service
            waiting = json.dumps(runtime.waiting.body())
            return web.text(waiting, content_type="application/json", status=503)
        health = observe(app, progress, topics, settings.stall_seconds)
        body = health.body()
        assigned = {(tp.topic, tp.partition) for tp in app.consumer.assignment()}
        stuck = undecodable.stopped(assigned)
        if stuck:
            body.update(status="undecodable", undecodable=[b.body() for b in stuck])
        ok = health.ok and not stuck
        return web.text(
            json.dumps(body), content_type="application/json", status=200 if ok else 503
        )

    @app.page("/metrics")
    async def prometheus(web: Any, request: Any) -> Any:
        if runtime.enricher is not None:  # before that, the consumer may have no assignment
            record_lag(observe(app, progress, topics, settings.stall_seconds))
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    return app, runtime


def _table(app: faust.App, name: str) -> Any:
    """A decision stage's state: JSON values in a changelog-backed table, so a crash loses
    nothing. One partition (use_partitioner: the key needs no current event)."""
    schema: Any = faust.Schema(key_serializer="json", value_serializer="json")
    return app.Table(name, partitions=1, use_partitioner=True, schema=schema)


def _add_stage(
    app: faust.App,
    stage: Stage,
    runtime: Runtime,
    topics: dict[str, Any],
    progress: Any,
    table: Any = None,
) -> None:
    """The agent of ``stage``: its step through the adapter, with its table if it has one."""
    assert stage.build is not None
    # The table's changelog writes must be in Kafka before the batch is acked.
    flush = None if table is None else (lambda: app.producer.flush())
    adapter = Adapter(stage, stage.build(runtime), runtime, table, flush)
    settings = runtime.settings
    size, within = stage.size(settings.batch_size), stage.wait(settings.batch_within)
    run = agent_loop(adapter.handle, stage.id, size, within, progress)
    app.agent(topics[getattr(runtime.names, stage.reads)], name=stage.id)(run)
