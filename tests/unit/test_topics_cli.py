"""``newsflow topics train|eval`` on tiny labelled files, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsflow.cli import cli, run_cli
from processors.stages.topic_model import load_topic_model
from tests.unit.test_topic_model import ECONOMY, SPORT


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    rows = [{"title": "Match", "body": t, "topics": ["sport"]} for t in SPORT * 2]
    rows += [{"title": "Markets", "body": t, "topics": "economy"} for t in ECONOMY * 2]
    return _write(tmp_path / "labelled.jsonl", rows)


def test_train_then_eval_a_model_on_own_labels(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model"
    assert run_cli(cli, ["topics", "train", str(labelled), "--out", str(out)]) == 0
    assert (out / "topics-custom.npz").is_file() and (out / "topics-custom.json").is_file()
    assert run_cli(cli, ["topics", "eval", str(labelled), "--model", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "top-1 1.000 on 16 articles" in printed
    assert "sport" in printed and "economy" in printed


def test_eval_of_the_shipped_model(labelled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(cli, ["topics", "eval", str(labelled)]) == 0
    assert f"model {load_topic_model().version}:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("not json", "labelled.jsonl:2: not JSON"),
        ('{"title": "x", "topics": ["sport"]}', "labelled.jsonl:2: 'body' must be"),
        ('{"body": "x", "topics": ["football"]}', "labelled.jsonl:2: 'topics' must list"),
        ('["a list"]', "labelled.jsonl:2: expected an object"),
    ],
)
def test_bad_labelled_lines_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, needle: str
) -> None:
    path = tmp_path / "labelled.jsonl"
    path.write_text(json.dumps({"body": "ok", "topics": ["sport"]}) + "\n" + line + "\n")
    for command in ("train", "eval"):
        assert run_cli(cli, ["topics", command, str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and needle in err[0], err


def test_a_model_folder_without_a_card_is_one_line(
    labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(cli, ["topics", "eval", str(labelled), "--model", str(tmp_path)]) == 2
    assert "expected one model card" in capsys.readouterr().err


def test_training_on_one_topic_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "one.jsonl", [{"body": t, "topics": ["sport"]} for t in SPORT])
    assert run_cli(cli, ["topics", "train", str(path), "--out", str(tmp_path / "m")]) == 2
    assert "two different topics" in capsys.readouterr().err
