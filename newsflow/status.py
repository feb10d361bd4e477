"""``newsflow status``: topic offsets and lag, dead letters, index counts, alerts."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from newsflow.settings import load_settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(as_json: bool) -> None:
    """Show the namespace's topics (end offset, committed, lag per partition) and indices."""
    from newsflow.clients import es_client
    from newsflow.names import Names
    from newsflow.offsets import lag
    from newsflow.summary import render, summarize

    settings = load_settings()
    names = Names(settings.namespace)
    topics = [names.raw_topic, names.enriched_topic, names.deadletter_topic]
    partitions = lag(settings, names.app_id, topics)
    es = es_client(settings)
    try:
        summary = summarize(es, names)
    finally:
        es.close()
    if as_json:
        payload = {
            "namespace": settings.namespace,
            "partitions": [{**asdict(p), "lag": p.lag} for p in partitions],
            "summary": asdict(summary),
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"namespace {settings.namespace}  (group {names.app_id})")
    click.echo(f"{'topic':<28}{'part':>5}{'end':>10}{'committed':>11}{'lag':>8}")
    for p in partitions:
        click.echo(f"{p.topic:<28}{p.partition:>5}{p.end:>10}{p.committed:>11}{p.lag:>8}")
    click.echo(render(summary))
