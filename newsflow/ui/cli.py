"""``newsflow ui``: serve the live page of the namespace's articles and alerts."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import click

from newsflow.core.settings import Settings, load_settings
from newsflow.core.webauth import require_token_beyond_loopback


def public_url(url: str) -> str:
    """``url`` without any user or password in it (for printing)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _ping(settings: Settings) -> None:
    """Raise unless Elasticsearch answers (an unreachable one, or one still starting)."""
    from newsflow.core.clients import es_client

    es = es_client(settings)
    try:
        es.cluster.health()  # not info(): the integ-test distribution has no GET /
    finally:
        es.close()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port."
)
def ui(host: str, port: int) -> None:
    """Serve a live page of <ns>-articles and <ns>-alerts: newest first, search, facets.

    For machines without Kibana. It listens on this machine only unless --host says
    otherwise, and then only with NEWSFLOW_UI_TOKEN set: the browser asks for it (any user
    name, the token as password). Stop it with Ctrl-C.
    """
    from aiohttp import web

    from newsflow.core.logs import configure
    from newsflow.core.waiting import when_reachable
    from newsflow.ui.app import create_app

    settings = load_settings()
    configure(settings)
    if settings.log_level.upper() != "DEBUG":
        # One line per search, every second per open page, is noise at INFO.
        logging.getLogger("elastic_transport").setLevel(logging.WARNING)
    # The page shows everything in the namespace to whoever reaches it.
    require_token_beyond_loopback(host, settings.ui_token, "NEWSFLOW_UI_TOKEN", "newsflow ui")
    # The page is empty without Elasticsearch: wait for it, /healthz saying why (503).
    when_reachable(lambda: _ping(settings), "ui start-up", health=(host, port))
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"newsflow ui: http://{shown}:{port}/  (namespace {settings.namespace}, "
        f"Elasticsearch {public_url(settings.es_url)})"
    )
    web.run_app(
        create_app(settings),
        host=host,
        port=port,
        print=None,
        access_log=None,
        shutdown_timeout=5,
        handle_signals=True,
    )
