"""`newsflow replay --tag/--no-alerts` through a real worker: the tag lands on the documents,
and a silenced replay fires nothing for a subscription that an untagged replay fires."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from producers.files import txt_article
from tests.e2e.test_alerts import alert_docs, settled, subscribe
from tests.support import SAMPLE, Namespace, WorkerProcess, run_newsflow

pytestmark = pytest.mark.stack


def _one(tmp_path: Path, prefix: str) -> tuple[Path, str]:
    """A folder holding the sample article ``prefix``, and that article's headline."""
    source = next(SAMPLE.glob(f"{prefix}_*.txt"))
    folder = tmp_path / prefix
    folder.mkdir()
    shutil.copy(source, folder)
    return folder, txt_article(source.read_text(encoding="utf-8"))["title"]


def test_tagged_and_silenced_replays(
    namespace: Namespace, worker: WorkerProcess, tmp_path: Path
) -> None:
    ns = namespace
    subscribe(ns, "storm", '"Storm Greer"', "--throttle", "none")
    subscribe(ns, "calvera", "Calvera AND strike*", "--throttle", "none")
    silenced, silenced_title = _one(tmp_path, "004")  # Storm Greer
    tagged, tagged_title = _one(tmp_path, "001")  # Calvera strike
    plain, plain_title = _one(tmp_path, "005")  # Storm Greer
    for folder, *options in (
        (silenced, "--tag", "drill-1", "--no-alerts"),
        (tagged, "--tag", "drill-1"),
        (plain,),
    ):
        done = run_newsflow(ns, "replay", "--quiet", *options, str(folder))
        assert done.returncode == 0, done.stderr
    settled(ns, messages=3, documents=3)

    docs = {d["title"]: d for d in ns.articles()}
    assert docs[silenced_title]["replay_tag"] == "drill-1"
    assert docs[silenced_title]["alerts_suppressed"] is True
    assert docs[tagged_title]["replay_tag"] == "drill-1"
    assert docs[tagged_title]["alerts_suppressed"] is False
    assert docs[plain_title]["replay_tag"] is None
    assert docs[plain_title]["alerts_suppressed"] is False
    # What the Live feed's filter (NOT replay_tag exists) leaves.
    live = ns.count(
        ns.names.articles_index, {"bool": {"must_not": {"exists": {"field": "replay_tag"}}}}
    )
    assert live == 1

    fired = {key.split(":")[0]: alert["article_id"] for key, alert in alert_docs(ns).items()}
    assert fired == {
        "storm": docs[plain_title]["id"],  # not the silenced Storm Greer article
        "calvera": docs[tagged_title]["id"],  # a tag alone silences nothing
    }
