"""``newsflow feeds`` and ``newsflow ingest-server``: the commands.

Each builds its settings, logging and clients, then runs :class:`producers.feedpoll.FeedPoller`
or the :mod:`producers.ingest` endpoint until a signal.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Any

import click
import httpx

from newsflow.core.errors import ConfigError
from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings
from newsflow.core.waiting import when_reachable
from producers.feedpoll import FeedPoller, PollResult, user_agent
from producers.feeds import FeedsConfig, config_from_urls, load_config
from producers.feedstate import SeenStore, default_state_path
from producers.ingest import Publisher

log = logging.getLogger("producers.feeds")


def _configure_logging(settings: Settings) -> None:
    from newsflow.core.logs import configure

    configure(settings)
    # One line per request would drown the one summary line per poll.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    # trafilatura warns about every thin page; the poller reports what matters.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


def _ready_producer(settings: Settings, names: Names, **overrides: Any) -> Any:
    """The namespace's topics, and a producer connected to Kafka (both need it up)."""
    from newsflow.core.bootstrap import ensure_topics
    from newsflow.core.clients import kafka_producer

    ensure_topics(settings, names)
    return kafka_producer(settings, **overrides)


def _feeds_config(
    urls: tuple[str, ...], path: Path | None, options: dict[str, Any], per_feed: dict[str, Any]
) -> FeedsConfig:
    if bool(urls) == bool(path):
        raise ConfigError("give feed URLs or --config FILE (one of the two)")
    if path is None:
        return config_from_urls(list(urls), feed=per_feed, **options)
    if per_feed:
        raise ConfigError("--interval and --full-text are for feed URLs; set them in the file")
    config = load_config(path)
    return FeedsConfig.model_validate({**config.model_dump(), **options}) if options else config


async def _serve_feeds(
    config: FeedsConfig, store: SeenStore, publisher: Publisher, once: bool
) -> list[PollResult]:
    """Run the poller; with ``once``, the result of each feed's poll."""
    async with httpx.AsyncClient(
        headers={"User-Agent": config.user_agent or user_agent()},
        timeout=httpx.Timeout(config.timeout),
        follow_redirects=True,
        limits=httpx.Limits(max_connections=config.concurrency),
    ) as client:
        poller = FeedPoller(config, client, store, publisher)
        if once:
            return await poller.poll_once()
        stop = asyncio.Event()
        _stop_on_signals(stop)
        await poller.run(stop)
        return []


def _stop_on_signals(stop: asyncio.Event) -> None:
    """First SIGINT/SIGTERM: finish the polls in flight, then stop. Second: stop now."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal(name: str) -> None:
        if stop.is_set() and main is not None:
            main.cancel()
            return
        log.info("feeds: %s, stopping after the polls in flight", name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig.name)


@click.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="feeds.yaml: name, url, interval, source, full_text of each feed.",
)
@click.option("--once", is_flag=True, help="Poll each feed one time and exit (cron, tests).")
@click.option("--interval", default=None, help="Poll period of URL feeds: seconds, 15m, 1h.")
@click.option("--full-text", is_flag=True, help="URL feeds: fetch each new item's page text.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Fetches in flight at most.")
@click.option("--timeout", type=click.FloatRange(0.1, 300), help="Seconds per fetch, in all.")
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Seen-store file [default: $NEWSFLOW_HOME/feeds/<namespace>.sqlite3].",
)
def feeds(
    urls: tuple[str, ...],
    config_path: Path | None,
    once: bool,
    interval: str | None,
    full_text: bool,
    concurrency: int | None,
    timeout: float | None,
    state: Path | None,
) -> None:
    """Poll RSS 1.0, RSS 2.0 and Atom feeds and publish their new items to <ns>.raw.

    Each feed is polled on its own interval with conditional GETs, and backs off on errors;
    a bad feed is logged by name and the others go on. What was published is remembered
    across restarts. With --once, the exit code is 1 when a feed failed.
    """
    options = {
        k: v for k, v in {"concurrency": concurrency, "timeout": timeout}.items() if v is not None
    }
    per_feed = {
        k: v for k, v in {"interval": interval, "full_text": full_text or None}.items() if v
    }
    config = _feeds_config(urls, config_path, options, per_feed)
    settings = load_settings()
    _configure_logging(settings)
    names = Names(settings.namespace)
    producer = when_reachable(lambda: _ready_producer(settings, names), "feeds start-up")
    store = SeenStore(state or default_state_path(settings.home, settings.namespace))
    try:
        publisher = Publisher(producer, names.raw_topic)
        results = asyncio.run(_serve_feeds(config, store, publisher, once))
    except asyncio.CancelledError:  # a second Ctrl-C: stopped without finishing the polls
        raise click.Abort from None
    finally:
        producer.close(timeout=10)
        store.close()
    if once:
        failed = sum(r.status == "error" for r in results)
        published = sum(r.published for r in results)
        click.echo(
            f"feeds: {len(results)} polled, {failed} failed; "
            f"{published} articles published to {names.raw_topic}"
        )
        if failed:
            raise SystemExit(1)


@click.command("ingest-server")
@click.option("--host", default=None, help="Bind address [default: 127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="[default: 8090]")
def ingest_server(host: str | None, port: int | None) -> None:
    """Accept articles over HTTP: POST /articles (one or a JSON array) → <ns>.raw.

    Answers 202 with the article ids once Kafka has acknowledged them; 400 with the errors
    of each invalid item; 413 over NEWSFLOW_INGEST_MAX_BODY_BYTES; 401 without the bearer
    token when NEWSFLOW_INGEST_TOKEN is set. GET /healthz for probes.
    """
    from aiohttp import web

    from newsflow.core.webauth import is_loopback
    from producers.ingest import create_app, load_ingest_settings

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    ingest = load_ingest_settings(**overrides)
    settings = load_settings()
    _configure_logging(settings)
    names = Names(settings.namespace)
    # A send blocks while Kafka is unreachable: bound it too, so that clients get their 503.
    block_ms = int(ingest.ack_timeout * 1000)
    producer = when_reachable(
        lambda: _ready_producer(settings, names, max_block_ms=block_ms),
        "ingest-server start-up",
        health=(ingest.host, ingest.port),
    )
    app = create_app(Publisher(producer, names.raw_topic, ingest.ack_timeout), ingest)

    async def close_producer(_: web.Application) -> None:
        await asyncio.to_thread(producer.close, 10)

    app.on_cleanup.append(close_producer)
    log = logging.getLogger("producers.ingest")
    if ingest.token is None and not is_loopback(ingest.host):
        log.warning("ingest: no NEWSFLOW_INGEST_TOKEN; anyone reaching %s may publish", ingest.host)
    log.info(
        "ingest: listening on http://%s:%d/articles → %s",
        ingest.host,
        ingest.port,
        names.raw_topic,
        extra={"event": "ingest_start", "host": ingest.host, "port": ingest.port},
    )
    web.run_app(app, host=ingest.host, port=ingest.port, print=None)
