"""``newsflow stack``: fetch, start, stop and inspect the local Kafka and Elasticsearch."""

from __future__ import annotations

import time

import click

from newsflow.core.settings import Settings, load_settings
from newsflow.stack import services
from newsflow.stack.cluster import bootstrap_servers
from newsflow.stack.layout import Layout

_SERVICE = click.argument("name", metavar="kafka|kafka-N|elasticsearch|elasticsearch-N")
_TIMEOUT = click.option(
    "--timeout", type=float, default=None, help="Seconds to wait for health (default per service)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def stack() -> None:
    """Run the real Kafka and Elasticsearch locally, as processes (no Docker).

    Downloads are pinned by deploy/stack/*.lock and cached under NEWSFLOW_HOME; data, logs and
    pid files live in NEWSFLOW_HOME/stack. Ports come from NEWSFLOW_KAFKA_BOOTSTRAP,
    NEWSFLOW_KAFKA_CONTROLLER_PORT, NEWSFLOW_ES_URL and NEWSFLOW_ES_TRANSPORT_PORT.
    """


@stack.command()
def fetch() -> None:
    """Download and verify Kafka and Elasticsearch.

    Files come from Maven Central, pinned by sha256 in deploy/stack/*.lock, and are kept in
    NEWSFLOW_HOME/downloads. Starts nothing; `make setup` runs it.
    """
    settings, started = load_settings(), time.monotonic()
    services.fetch(settings)
    took = time.monotonic() - started
    click.echo(
        f"Kafka {settings.kafka_version} and Elasticsearch {settings.es_version} are verified in "
        f"{Layout.of(settings).downloads} ({took:.1f}s)"
    )


@stack.command()
@_TIMEOUT
@click.option(
    "--brokers",
    type=click.IntRange(1, 9),
    default=None,
    help="Kafka brokers (default NEWSFLOW_KAFKA_BROKERS, else as first started, else 1).",
)
@click.option(
    "--es-nodes",
    type=click.IntRange(1, 9),
    default=None,
    help="Elasticsearch nodes (default NEWSFLOW_ES_NODES, else as first started, else 1).",
)
def up(timeout: float | None, brokers: int | None, es_nodes: int | None) -> None:
    """Start what is not running; wait until both are healthy.

    A service already running from this stack is reused; a port taken by anything else is
    an error. Prints the status at the end. With --brokers 3, Kafka is a KRaft cluster of
    three combined broker+controller nodes, each with its own ports and data
    (docs/OPERATIONS.md, "A Kafka cluster"). With --es-nodes 2, Elasticsearch is two nodes:
    node 1 the master, node 2 a data node (docs/OPERATIONS.md, "An Elasticsearch cluster").
    """
    chosen = {"kafka_brokers": brokers, "es_nodes": es_nodes}
    settings = load_settings(**{key: value for key, value in chosen.items() if value})
    started = time.monotonic()
    services.ensure_up(settings, timeout)
    click.echo(f"stack up ({time.monotonic() - started:.1f}s)")
    _print_status(settings)
    cluster = services.kafka_cluster(settings)
    if cluster is not None:
        click.echo(
            f"clients: NEWSFLOW_KAFKA_BOOTSTRAP={bootstrap_servers(settings, cluster.brokers)} "
            f"NEWSFLOW_REPLICATION_FACTOR={cluster.replicas}"
        )
    nodes = services.es_cluster(settings)
    if nodes is not None:
        click.echo(f"clients: NEWSFLOW_ES_URL={settings.es_url} NEWSFLOW_ES_NODES={nodes.nodes}")


@stack.command()
def down() -> None:
    """Stop Kafka and Elasticsearch; data is kept.

    Each gets SIGTERM and, if still running after a grace period, SIGKILL.
    """
    stopped = services.down(load_settings())
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@stack.command()
@_SERVICE
@_TIMEOUT
def start(name: str, timeout: float | None) -> None:
    """Start one service (kafka: every broker; kafka-2: broker 2; elasticsearch-2: ES node 2)
    and wait until healthy (an Elasticsearch cluster: green)."""
    services.start_service(load_settings(), name, timeout)
    click.echo(f"{name} is healthy")


@stack.command()
@_SERVICE
@click.option("--kill", is_flag=True, help="SIGKILL at once (a crash) instead of SIGTERM.")
def stop(name: str, kill: bool) -> None:
    """Stop one service (kafka: every broker; kafka-2: broker 2; elasticsearch-2: ES node 2);
    its data is kept."""
    settings = load_settings()
    if kill:
        was_running = services.kill_service(settings, name)
    else:
        was_running = services.stop_service(settings, name)
    click.echo(f"{name} stopped" if was_running else f"{name} was not running")


@stack.command()
def status() -> None:
    """What runs where: state, pid, ports, version, log."""
    _print_status(load_settings())


def _print_status(settings: Settings) -> None:
    for row in services.status(settings):
        ports = ",".join(f"{role}={port}" for role, port in row.ports.items())
        pid = row.pid if row.pid is not None else "-"
        click.echo(
            f"{row.name:<16} {row.state:<8} pid={pid:<8} {ports:<28} {row.version:<8} {row.log}"
        )
