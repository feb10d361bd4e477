"""``newsflow demo``: the stack, a worker, the sample corpus replayed, a summary printed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from newsflow.errors import PipelineError
from newsflow.settings import Settings, load_settings

SAMPLE = Path(__file__).resolve().parents[1] / "corpus" / "sample"


def _wait_until_processed(settings: Settings, total: int) -> None:
    from tqdm import tqdm

    from newsflow.names import Names
    from newsflow.offsets import lag

    names = Names(settings.namespace)
    with tqdm(total=total, desc="processing", unit=" articles") as bar:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            parts = lag(settings, names.app_id, [names.raw_topic, names.enriched_topic])
            behind = sum(p.lag for p in parts)
            raw_done = sum(p.committed for p in parts if p.topic == names.raw_topic)
            bar.n = min(total, raw_done)
            bar.refresh()
            if behind == 0 and raw_done >= total:
                return
            time.sleep(0.5)
    raise PipelineError("the worker did not catch up in 10 minutes")


def _answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _ui_address(settings: Settings, port: int = 8080) -> str:
    """The live page's address: reused when one already answers there, else started."""
    import subprocess
    import sys

    url = f"http://127.0.0.1:{port}/"
    if _answers(f"{url}api/info"):
        return url
    with (settings.home / "demo-ui.log").open("ab") as log:
        # Detached, so the page stays up after the demo ends.
        subprocess.Popen(
            [sys.executable, "-m", "newsflow", "ui", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _answers(f"{url}api/info"):
            return url
        time.sleep(0.5)
    raise PipelineError(f"the live page did not start; see {settings.home / 'demo-ui.log'}")


@click.command()
@click.option(
    "--corpus",
    type=click.Path(exists=True, path_type=Path),
    default=SAMPLE,
    show_default=True,
    help="What to replay.",
)
def demo(corpus: Path) -> None:
    """Start the local stack and a worker, replay the sample corpus, print what was found."""
    from newsflow.bootstrap import bootstrap_namespace
    from newsflow.clients import es_client, kafka_producer
    from newsflow.localworker import LocalWorker
    from newsflow.names import Names
    from newsflow.offsets import end_offsets
    from newsflow.stack import ensure_up
    from newsflow.summary import render, summarize
    from producers.replay import Pacer, replay

    settings = load_settings()
    names = Names(settings.namespace)
    click.echo("starting Kafka and Elasticsearch (newsflow stack up) ...")
    ensure_up(settings)
    bootstrap_namespace(settings)
    log_path = settings.home / "demo-worker.log"
    click.echo(f"starting a worker (log: {log_path}) ...")
    worker = LocalWorker(os.environ, log_path, port=settings.web_port).start()
    try:
        producer = kafka_producer(settings)
        try:
            from producers.files import read_corpus

            summary = replay(
                producer, names.raw_topic, read_corpus([corpus]), pacer=Pacer(None, None)
            )
        finally:
            producer.close(timeout=10)
        click.echo(f"replayed {summary.sent} articles from {corpus} to {names.raw_topic}")
        total = sum(end_offsets(settings, [names.raw_topic]).values())
        _wait_until_processed(settings, total)
    finally:
        worker.stop()
    es = es_client(settings)
    try:
        click.echo("\n" + render(summarize(es, names)))
    finally:
        es.close()
    search = f"{settings.es_url}/{names.articles_index}/_search?q=body:storm&pretty"
    ui = _ui_address(settings)
    click.echo(
        f"\nwhere to look:\n"
        f"  live page  {ui}   (newsflow ui; stop it with: pkill -f 'newsflow ui')\n"
        f"  search     curl '{search}'\n"
        f"  status     newsflow status\n"
        f"  Kibana     with Docker: docker compose up, then http://localhost:5601\n"
        f"  the stack keeps running; stop it with: newsflow stack down"
    )
