"""``newsflow demo``: the stack, a worker, the sample corpus replayed, a summary printed."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from newsflow.core.errors import PipelineError
from newsflow.core.paths import CORPUS
from newsflow.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from newsflow.cli.drained import Snapshot
    from newsflow.cli.localworker import LocalWorker
    from newsflow.core.names import Names
    from producers.files import Record

SAMPLE = CORPUS / "sample"


def _wait_until_processed(
    settings: Settings, sent: int, expected: int, worker: LocalWorker
) -> Snapshot:
    """Until drained (:mod:`newsflow.cli.drained`), the bar counting articles that reached an index.

    ``expected`` is what the bar counts to: the distinct article ids sent (the same id sent
    twice is one document). ``sent`` raw messages must be in ``<ns>.raw``.
    """
    from tqdm import tqdm

    from newsflow.cli.drained import wait_drained

    with tqdm(total=expected, desc="indexed", unit=" articles") as bar:

        def show(snap: Snapshot) -> None:
            if worker.proc is not None and worker.proc.poll() is not None:
                raise PipelineError(f"the worker exited; see {worker.log_path}")
            bar.n = min(expected, snap.accounted)
            bar.set_postfix_str(snap.describe(), refresh=False)
            bar.refresh()

        return wait_drained(settings, timeout=600, messages=sent, on_poll=show)


def _keys_into(ids: set[bytes], records: Iterator[Record]) -> Iterator[Record]:
    """The records, each valid one's key (its article id) added to ``ids`` on the way."""
    for record in records:
        if record.error is None and record.key is not None:
            ids.add(record.key)
        yield record


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
@click.option("--no-ui", is_flag=True, help="Do not start the live page (newsflow ui) at the end.")
def demo(corpus: Path, no_ui: bool) -> None:
    """Start the local stack and a worker, replay the sample corpus, print what was found."""
    from newsflow.cli.localworker import LocalWorker
    from newsflow.cli.summary import render, render_sources, summarize
    from newsflow.core.bootstrap import bootstrap_namespace
    from newsflow.core.clients import es_client
    from newsflow.core.names import Names
    from newsflow.stack import ensure_up

    settings = load_settings()
    names = Names(settings.namespace)
    click.echo("starting Kafka and Elasticsearch (newsflow stack up) ...")
    ensure_up(settings)
    bootstrap_namespace(settings)
    log_path = settings.home / "demo-worker.log"
    click.echo(f"starting a worker (log: {log_path}) ...")
    # A port of its own: a worker the user already runs keeps 6066 (see docs/SCALING.md).
    worker = LocalWorker(os.environ, log_path).start()
    try:
        sent, ids = _replay_corpus(settings, corpus)
        click.echo(f"replayed {sent} articles ({ids} distinct ids) from {corpus}")
        final = _wait_until_processed(settings, sent, ids, worker)
    finally:
        worker.stop()
    click.echo(_accounting(final, names))
    es = es_client(settings)
    try:
        click.echo("\n" + render(summarize(es, names)))
    finally:
        es.close()
    click.echo("\nwhere each number comes from (Elasticsearch; the same in Kibana's Discover):")
    click.echo(render_sources(settings.es_url, names))
    click.echo(_where_to_look(settings, names, no_ui))


def _replay_corpus(settings: Settings, corpus: Path) -> tuple[int, int]:
    """Every record of ``corpus`` to ``<ns>.raw``: how many were sent, how many distinct ids."""
    from newsflow.core.clients import kafka_producer
    from newsflow.core.names import Names
    from producers.files import read_corpus
    from producers.replay import Pacer, replay

    ids: set[bytes] = set()
    producer = kafka_producer(settings)
    try:
        summary = replay(
            producer,
            Names(settings.namespace).raw_topic,
            _keys_into(ids, read_corpus([corpus])),
            pacer=Pacer(None, None),
        )
    finally:
        producer.close(timeout=10)
    return summary.sent, len(ids)


def _accounting(final: Snapshot, names: Names) -> str:
    """Where every raw message went, once drained."""
    repeats = max(0, final.raw_messages - final.accounted)
    return (
        f"{final.raw_messages} messages in {names.raw_topic}: {final.documents} documents, "
        f"{final.dead_letters} dead letters, {repeats} repeating an id already indexed; "
        f"every stage committed ({final.describe()})"
    )


def _where_to_look(settings: Settings, names: Names, no_ui: bool) -> str:
    search = f"{settings.es_url}/{names.articles_index}/_search?q=body:storm&pretty"
    page = (
        "not started (--no-ui)"
        if no_ui
        else f"{_ui_address(settings)}   (newsflow ui; stop it with: pkill -f 'newsflow ui')"
    )
    return (
        f"\nwhere to look:\n"
        f"  live page  {page}\n"
        f"  search     curl '{search}'\n"
        f"  status     newsflow status\n"
        f"  Kibana     with Docker: docker compose up, then http://localhost:5601\n"
        f"  the stack keeps running; stop it with: newsflow stack down"
    )
