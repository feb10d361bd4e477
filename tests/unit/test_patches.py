"""The runtime patches install on the pinned releases only, and each one cites upstream."""

from __future__ import annotations

import dataclasses
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest
from faust.transport.consumer import Consumer

from processors.worker import holes, patches

DOCS = Path(__file__).parents[2] / "docs" / "PATCHES.md"


def test_every_patch_installs_on_the_pinned_versions_and_twice_is_harmless() -> None:
    patches.install()
    patches.install()
    for patch in patches.PATCHES:
        for target, (_, replacement) in patch.replaces.items():
            assert pkgutil.resolve_name(target) is replacement, target


def _holes_written_for(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    """Put Faust's own ``_new_offset`` back and declare the holes patch with ``changes``."""
    monkeypatch.setattr(Consumer, "_new_offset", holes._faust_new_offset)
    changed = tuple(
        dataclasses.replace(p, **changes) if p.name == "processors.worker.holes" else p
        for p in patches.PATCHES
    )
    monkeypatch.setattr(patches, "PATCHES", changed)


def test_code_other_than_the_hashed_original_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    target = "faust.transport.consumer:Consumer._new_offset"
    _holes_written_for(monkeypatch, replaces={target: ("0" * 64, holes._new_offset)})
    with pytest.raises(patches.PatchRefused) as refused:
        patches.install()
    message = str(refused.value)
    assert "processors.worker.holes was written for faust-streaming 0.15.3" in message
    assert f"{target} is not the code the patch replaces" in message
    assert "https://github.com/faust-streaming/faust/issues/606" in message
    assert Consumer._new_offset is holes._faust_new_offset, "nothing installed when refused"


def test_another_library_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _holes_written_for(monkeypatch, written_for={"faust-streaming": "0.15.2"})
    with pytest.raises(patches.PatchRefused, match=r"faust-streaming is 0\.15\.3, not 0\.15\.2"):
        patches.install()


def test_every_patch_cites_upstream_and_is_in_the_upgrade_checklist() -> None:
    checklist = DOCS.read_text()
    for patch in patches.PATCHES:
        assert patch.upstream, f"{patch.name} cites no upstream issue"
        assert f"`{patch.name}`" in checklist, f"{patch.name} missing from {DOCS.name}"
        for link in patch.upstream:
            assert re.fullmatch(r"https://github\.com/[\w-]+/[\w-]+/(issues|pull)/\d+", link)
            assert link in checklist, f"{link} of {patch.name} missing from {DOCS.name}"
        for dist, wanted in patch.written_for.items():
            assert f"{dist} {wanted}" in checklist, f"{patch.name}: {dist} {wanted}"
        for target in patch.replaces:
            assert f"`{target}`" in checklist, f"{target} missing from {DOCS.name}"
