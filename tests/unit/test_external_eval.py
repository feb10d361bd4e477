"""``python -m evaluation.external``: sections, the data folder, and skipping when it is absent."""

from __future__ import annotations

import pytest

from evaluation.external import DEFAULT_DATA
from evaluation.external.__main__ import SECTIONS, main, missing
from evaluation.external.topics import REQUIRES

needs_data = pytest.mark.skipif(
    not DEFAULT_DATA.is_dir(), reason=f"no shared data at {DEFAULT_DATA}"
)


def test_an_absent_data_folder_is_skipped_with_a_reason(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", f"{tmp_path}/nothing"]) == 0
    assert "skipped: no data folder" in capsys.readouterr().out


def test_a_section_lacking_its_files_is_skipped(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data", str(tmp_path), "--only", "topics"]) == 0
    assert "skipped:" in capsys.readouterr().out


def test_an_unknown_section_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--only", "topics,nosuch"])
    assert exit_.value.code == 2
    assert "nosuch" in capsys.readouterr().err


def test_every_section_is_a_module_with_requires_and_section() -> None:
    import importlib

    for module_name in SECTIONS.values():
        module = importlib.import_module(module_name)
        assert callable(module.section) and isinstance(module.REQUIRES, tuple)


@needs_data
def test_the_shared_data_has_what_the_topic_section_reads() -> None:
    assert missing(DEFAULT_DATA, REQUIRES) == []
