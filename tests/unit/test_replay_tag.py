"""`newsflow replay --tag/--no-alerts`: the fields a replay sets travel raw -> clean -> article."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsflow.core.errors import PipelineError
from processors.stages.decode import decode
from processors.worker.pipeline import copy_enrichment
from producers.files import read_corpus
from producers.replay import replay_stamp
from schemas.work import Deduped

NOW = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def test_the_stamp_of_tag_and_no_alerts() -> None:
    assert replay_stamp(None, False) == {}
    assert replay_stamp("drill-2026.11:a_b", False) == {"replay_tag": "drill-2026.11:a_b"}
    assert replay_stamp(None, True) == {"alerts_suppressed": True}


@pytest.mark.parametrize("tag", ["", " x", "two words", "-lead", "é", "x" * 129])
def test_a_tag_that_is_no_keyword_name_is_refused(tag: str) -> None:
    with pytest.raises(PipelineError, match="--tag"):
        replay_stamp(tag, False)


def test_every_record_carries_the_stamp_and_keeps_its_key(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("date 2026-11-02\nPort strike\n\nDockers walked out.")
    lines = [{"body": "one", "id": "i1", "replay_tag": "old"}, {"body": "two", "url": "http://x/2"}]
    (tmp_path / "b.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (tmp_path / "c.json").write_text(json.dumps([{"body": "three"}, 4]))
    plain = list(read_corpus([tmp_path]))
    stamp = replay_stamp("drill", True)
    stamped = list(read_corpus([tmp_path], stamp))
    assert [r.key for r in stamped] == [r.key for r in plain]
    assert [r.published_at for r in stamped] == [r.published_at for r in plain]
    values = [json.loads(r.value) for r in stamped if r.error is None]
    assert len(values) == 4
    for value in values:  # the replay's tag replaces one the file carried
        assert value["replay_tag"] == "drill" and value["alerts_suppressed"] is True
    assert stamped[-1].error is not None, "a non-object stays invalid, unstamped"


def test_the_fields_reach_the_clean_article() -> None:
    raw = {"body": "Text.", "id": "a", "replay_tag": "drill", "alerts_suppressed": True}
    clean = decode(json.dumps(raw).encode(), 10_000)
    assert clean.replay_tag == "drill" and clean.alerts_suppressed is True
    untagged = decode(b'{"body": "Text.", "alerts_suppressed": null}', 10_000)
    assert untagged.replay_tag is None and untagged.alerts_suppressed is False


def test_a_tag_the_raw_schema_refuses_is_a_dead_letter() -> None:
    from newsflow.core.errors import InvalidArticle

    with pytest.raises(InvalidArticle, match="replay_tag"):
        decode(b'{"body": "Text.", "replay_tag": "two words"}', 10_000)


def test_a_copy_keeps_its_own_tag_not_its_first_copys() -> None:
    raw = {"body": "Dockers walked out.", "id": "copy", "replay_tag": "drill"}
    item = Deduped(
        article=decode(json.dumps(raw).encode(), 10_000),
        is_duplicate=True,
        duplicate_of="first",
        kind="exact",
    )
    original = {"id": "first", "topics": ["labour"], "replay_tag": "other", "story_id": "s1"}
    original["alerts_suppressed"] = True
    copy = copy_enrichment(item, original, NOW)
    assert copy.topics == ["labour"] and copy.story_id == "s1", "enrichment from the first copy"
    assert copy.replay_tag == "drill" and copy.alerts_suppressed is False, "tag of its own"
