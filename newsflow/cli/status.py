"""``newsflow status``: drained or in flight, workers, topic offsets and lag, index counts."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from newsflow.core.settings import load_settings
from newsflow.core.waiting import maybe_waiting, wait_option


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@wait_option
def status(as_json: bool, wait: bool) -> None:
    """Say whether the namespace is drained (or how many articles are in flight, at which
    stage), list the workers with their web ports, every stage topic's offsets and lag per
    partition, and the indices' counts."""
    from newsflow.cli.drained import Probe, Snapshot
    from newsflow.cli.offsets import Member
    from newsflow.cli.summary import Summary, render, summarize
    from newsflow.core.clients import es_client
    from newsflow.core.names import Names
    from newsflow.core.webport import web_port_of
    from processors.worker.topology import stage_topics

    settings = load_settings()
    names = Names(settings.namespace)

    def look() -> tuple[Snapshot, list[Member], Summary]:
        with Probe(settings) as probe:
            snap = probe.snapshot()
            members = probe.offsets.members(names.app_id)
        es = es_client(settings)
        try:
            return snap, members, summarize(es, names)
        finally:
            es.close()

    snap, members, summary = maybe_waiting(wait, look, "status")
    stage_of = stage_topics(names)
    order = list(stage_of)
    partitions = sorted(snap.partitions, key=lambda p: (order.index(p.topic), p.partition))
    workers = [
        {
            "client_id": m.client_id,
            "host": m.host,
            "web_port": web_port_of(m.client_id),
            "partitions": sum(tp in stage_of for tp, _ in m.partitions),
        }
        for m in members
    ]
    if as_json:
        payload = {
            "namespace": settings.namespace,
            "drained": snap.drained,
            "state": snap.describe(),
            "in_flight": snap.lag,
            "workers": workers,
            "partitions": [
                {**asdict(p), "lag": p.lag, "stage": stage_of[p.topic]} for p in partitions
            ],
            "summary": asdict(summary),
        }
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(f"namespace {settings.namespace}  (group {names.app_id}): {snap.describe()}")
    click.echo(f"workers   {len(workers) or 'none running'}")
    for w in workers:
        port = w["web_port"] if w["web_port"] is not None else "?"
        click.echo(f"  {w['host']:<16}web port {port:<7}{w['partitions']} stage partitions")
    click.echo(f"{'topic':<28}{'stage':<13}{'part':>5}{'end':>10}{'committed':>11}{'lag':>8}")
    for p in partitions:
        click.echo(
            f"{p.topic:<28}{stage_of[p.topic]:<13}{p.partition:>5}{p.end:>10}"
            f"{p.committed:>11}{p.lag:>8}"
        )
    click.echo(render(summary))
