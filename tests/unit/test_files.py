import gzip
import json
from pathlib import Path

import pytest

from newsflow.core.errors import ConfigError
from producers.files import corpus_files, read_corpus, txt_article


def test_txt_with_date_marker_and_headline():
    article = txt_article("date 2026-11-02\nPort strike ends\n\nDockers returned to work.\n\nMore.")
    assert article == {
        "title": "Port strike ends",
        "body": "Dockers returned to work.\n\nMore.",
        "published_at": "2026-11-02T00:00:00+00:00",
    }


def test_txt_without_headline_keeps_first_sentence_in_body():
    article = txt_article(" date 2024-11-30 Officials met. They talked.\n\nSecond paragraph.")
    assert "title" not in article
    assert article["body"].startswith("Officials met.")


def test_folders_are_walked_in_sorted_order_and_gz_is_read(tmp_path: Path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("Second article body.")
    (tmp_path / "1.txt").write_text("First article body.")
    with gzip.open(tmp_path / "3.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"body": "third", "id": "t3"}) + "\n\nnot json\n")
        fh.write(json.dumps({"title": "no body"}) + "\n")
    (tmp_path / "ignored.csv").write_text("x")
    files = corpus_files([tmp_path])
    assert [p.name for p in files] == ["1.txt", "3.jsonl.gz", "2.txt"]
    records = list(read_corpus([tmp_path]))
    assert [r.error is None for r in records] == [True, True, False, False, True]
    assert records[1].key == b"t3"
    assert records[2].line == 3 and "not JSON" in (records[2].error or "")
    assert "body" in (records[3].error or "")


def test_json_array_file(tmp_path: Path):
    (tmp_path / "a.json").write_text(json.dumps([{"body": "one"}, {"body": "two"}, 3]))
    records = list(read_corpus([tmp_path / "a.json"]))
    assert [r.error is None for r in records] == [True, True, False]


def test_same_text_gets_the_same_key(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Same words here.")
    (tmp_path / "b.txt").write_text("Same   words here.")
    keys = {r.key for r in read_corpus([tmp_path])}
    assert len(keys) == 1


def test_bad_paths_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError):
        corpus_files([tmp_path / "missing"])
    (tmp_path / "x.csv").write_text("x")
    with pytest.raises(ConfigError):
        corpus_files([tmp_path / "x.csv"])


def test_non_utf8_file_is_reported_not_raised(tmp_path: Path):
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe bad")
    (record,) = read_corpus([tmp_path])
    assert record.error and "UTF-8" in record.error
