"""``newsflow worker``: a Faust worker in the foreground."""

from __future__ import annotations

import click

from newsflow.core.settings import load_settings


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="spaCy processes [default: one per core, NEWSFLOW_NLP_PROCESSES].",
)
@click.option(
    "--web-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port of /healthz and /metrics; refused in one line when taken [default: "
    "NEWSFLOW_WEB_PORT, else the first free port from 6066 up].",
)
@click.option(
    "--blocking-timeout",
    type=click.FloatRange(min=0.01),
    default=None,
    help="Diagnostic: log a traceback (and raise in the code that runs) when the event loop "
    "is blocked this many seconds [default: off].",
)
def worker(concurrency: int | None, web_port: int | None, blocking_timeout: float | None) -> None:
    """Run a Faust worker: raw articles in, enriched documents and dead letters out.

    More workers, here or on other machines, join one consumer group and share the
    partitions of <ns>.raw. Stop it with Ctrl-C; unfinished batches are read again.

    Its web server (NEWSFLOW_WEB_HOST, 127.0.0.1) refuses to listen beyond loopback without
    NEWSFLOW_WEB_TOKEN; with a token, every path but /healthz requires it.
    """
    import faust

    from newsflow.core import webport
    from newsflow.core.bootstrap import bootstrap_namespace
    from newsflow.core.logs import configure, logging_config
    from newsflow.core.waiting import when_reachable
    from newsflow.core.webauth import require_token_beyond_loopback
    from processors.worker.app import create_app

    overrides: dict[str, object] = {}
    if concurrency is not None:
        overrides["nlp_processes"] = concurrency
    if web_port is not None:
        overrides["web_port"] = web_port
    settings = load_settings(**overrides)
    require_token_beyond_loopback(
        settings.web_host, settings.web_token, "NEWSFLOW_WEB_TOKEN", "newsflow worker"
    )
    # Not set: a free port from 6066 up; set and taken: one line (newsflow.core.webport). Claimed
    # before the wait below, whose /healthz binds the same port.
    explicit = web_port is not None or "web_port" in settings.model_fields_set
    settings, claimed = webport.claim_for(settings, explicit)
    configure(settings)  # the waiting lines below; Faust installs the same config later
    webport.announce(claimed)
    # Topics and templates before Faust starts, waiting while Kafka or Elasticsearch cannot
    # be reached: Faust's own start would crash on an unreachable Kafka. Meanwhile the web
    # port answers /healthz 503 with the reason.
    when_reachable(
        lambda: bootstrap_namespace(settings),
        "worker start-up",
        health=(settings.web_host, settings.web_port),
    )
    app, _ = create_app(settings)
    faust.Worker(
        app,
        loglevel=settings.log_level.upper(),
        logging_config=logging_config(settings),
        quiet=True,
        # Faust's detector: a SIGALRM timer re-armed by the loop; an alarm means nothing let
        # the loop run for that long (see docs/SCALING.md, the soak run).
        blocking_timeout=blocking_timeout,
    ).execute_from_commandline()
    claimed.release()
