"""``newsflow stack``: fetch, start, stop and inspect the local Kafka and Elasticsearch."""

from __future__ import annotations

import time

import click

from newsflow.settings import load_settings
from newsflow.stack import services

_SERVICE = click.Choice(services.SERVICES)
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
    """Download and verify Kafka's jars and the Elasticsearch zip (no service is started)."""
    started = time.monotonic()
    services.fetch(load_settings())
    click.echo(f"Kafka and Elasticsearch are in the cache ({time.monotonic() - started:.1f}s)")


@stack.command()
@_TIMEOUT
def up(timeout: float | None) -> None:
    """Start Kafka and Elasticsearch unless they run, and wait until both are healthy."""
    settings = load_settings()
    started = time.monotonic()
    services.ensure_up(settings, timeout)
    click.echo(f"stack up ({time.monotonic() - started:.1f}s)")
    _print_status(settings)


@stack.command()
def down() -> None:
    """Stop Kafka and Elasticsearch (SIGTERM, SIGKILL after a grace period); data is kept."""
    stopped = services.down(load_settings())
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@stack.command()
@click.argument("name", type=_SERVICE)
@_TIMEOUT
def start(name: str, timeout: float | None) -> None:
    """Start one service (kafka or elasticsearch) and wait until it is healthy."""
    services.start_service(load_settings(), name, timeout)
    click.echo(f"{name} is healthy")


@stack.command()
@click.argument("name", type=_SERVICE)
def stop(name: str) -> None:
    """Stop one service (kafka or elasticsearch); its data is kept."""
    was_running = services.stop_service(load_settings(), name)
    click.echo(f"{name} stopped" if was_running else f"{name} was not running")


@stack.command()
def status() -> None:
    """What runs where: service, state, pid, ports, version and log file."""
    _print_status(load_settings())


def _print_status(settings: object) -> None:
    rows = services.status(settings)  # type: ignore[arg-type]
    for row in rows:
        ports = ",".join(f"{role}={port}" for role, port in row.ports.items())
        pid = row.pid if row.pid is not None else "-"
        click.echo(
            f"{row.name:<14} {row.state:<8} pid={pid:<8} {ports:<28} {row.version:<8} {row.log}"
        )
