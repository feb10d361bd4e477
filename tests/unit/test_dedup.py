"""Exact and near-duplicate detection: each variant kind, non-duplicates, idempotence,
expiry bounds, and signatures identical across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from processors.stages.dedup import (
    DedupConfig,
    DedupDecision,
    content_hash,
    decide,
    expire,
    first_seen,
    normalize_for_hash,
    signature,
)

ORIGINAL = """By Marta Keller

The city council of Harlow Bay voted seven to two on Tuesday night to close the old ferry \
terminal on Pier Street and move the harbour ferries to a new dock north of the marina.

Councillor Ines Varga, who chaired the transport committee, said the old terminal had been \
losing money for a decade and that its timber pilings failed a safety inspection in March.

Ferry workers protested outside the town hall before the vote, carrying signs that read \
Keep Pier Street Working. Their union says forty jobs are at risk during the move.

The new dock will cost an estimated eleven million euros, paid partly by a regional \
infrastructure grant. Construction is expected to start in the autumn and last two years.

Residents of the north shore welcomed the decision, saying the new dock would bring \
shops and cafes to a neighbourhood that has long felt cut off from the town centre."""

SAME_EVENT_REWRITE = """Harlow Bay is getting a new ferry dock. After a long and heated debate, \
councillors backed a plan to abandon the Pier Street terminal, whose wooden supports were \
found unsafe this spring, and build a replacement beside the northern marina.

The union representing ferry crews warned that dozens of positions could disappear while \
services move. A crowd of workers gathered at the town hall ahead of the meeting.

The project, priced at around eleven million euros, leans on money from a regional fund. \
Building work should begin later this year."""

UNRELATED_SAME_TOPIC = """The port authority of Kessel announced on Monday that container \
traffic through its southern quay rose by twelve percent last year, driven by new shipping \
lines from the Baltic.

Director Paul Anker said the authority would hire sixty dockworkers and buy two electric \
cranes. The harbour's ferry services to the islands are unaffected by the expansion.

Environmental groups asked the authority to publish noise measurements from the quay, \
which lies close to a residential district."""


class JsonTable(MutableMapping[str, Any]):
    """A dict that stores values as JSON, like a Faust table: non-primitive values fail, and
    mutating a value in place (without assigning it back) is lost, as it would be there."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.writes = 0

    def __getitem__(self, key: str) -> Any:
        return json.loads(self.data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes += 1
        self.data[key] = json.dumps(value, allow_nan=False)

    def __delitem__(self, key: str) -> None:
        self.writes += 1
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def check(article_id: str, text: str, state: JsonTable, at: float = 0.0) -> DedupDecision:
    return decide(article_id, content_hash(text), signature(text), at, state, DedupConfig())


def syndicated(text: str) -> str:
    body = paragraphs(text)[1:-1]  # byline replaced, last paragraph dropped
    return "\n\n".join(["By Staff Reporter, Coast Wire", *body])


def reordered(text: str) -> str:
    parts = paragraphs(text)
    return "\n\n".join([parts[0], parts[2], parts[1], *parts[3:]])


VARIANTS = {
    "exact": lambda t: t,
    "whitespace_and_case": lambda t: "  " + t.upper().replace(" ", "   ") + "\n",
    "updated_prefix": lambda t: "UPDATED 07:55 — " + t,
    "syndicated": syndicated,
    "reordered": reordered,
    "one_word": lambda t: t.replace("seven to two", "eight to one"),
}


def test_normalize_drops_lead_ins_and_bylines() -> None:
    text = "UPDATED 07:55 — HARLOW BAY (Coast Wire) — The  Council's plan!\nBy Jane Doe"
    assert normalize_for_hash(text) == "the council s plan"
    assert content_hash("The council's plan.") == content_hash("the  COUNCIL'S plan")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_variant_kind_is_a_duplicate_of_the_first_copy(variant: str) -> None:
    state = JsonTable()
    assert check("orig", ORIGINAL, state).kind == "new"
    decision = check("copy", VARIANTS[variant](ORIGINAL), state, at=5.0)
    assert decision.is_duplicate, f"{variant} not caught: {decision}"
    assert decision.duplicate_of == "orig"
    expected_kind = "near" if variant in {"syndicated", "reordered", "one_word"} else "exact"
    assert decision.kind == expected_kind


@pytest.mark.parametrize("other", [SAME_EVENT_REWRITE, UNRELATED_SAME_TOPIC])
def test_other_articles_are_not_duplicates(other: str) -> None:
    state = JsonTable()
    check("orig", ORIGINAL, state)
    decision = check("other", other, state)
    assert decision == DedupDecision(False, None, "new", None)


def test_redelivery_returns_the_same_decision_and_writes_nothing() -> None:
    state = JsonTable()
    first = check("orig", ORIGINAL, state)
    copy = check("copy", syndicated(ORIGINAL), state)
    writes = state.writes
    assert check("orig", ORIGINAL, state, at=99.0) == first
    assert check("copy", syndicated(ORIGINAL), state, at=99.0) == copy
    assert state.writes == writes


def test_first_seen_survives_redelivery_and_moves_with_new_content() -> None:
    state = JsonTable()
    check("orig", ORIGINAL, state, at=10.0)
    check("orig", ORIGINAL, state, at=99.0)  # a replay of the same article
    assert first_seen(state, "orig", 123.0) == datetime.fromtimestamp(10.0, UTC)
    check("orig", VARIANTS["one_word"](ORIGINAL), state, at=200.0)  # re-published, edited
    assert first_seen(state, "orig", 123.0) == datetime.fromtimestamp(200.0, UTC)
    assert first_seen(state, "never", 123.0) == datetime.fromtimestamp(123.0, UTC)


def test_a_copy_of_a_copy_points_at_the_first_seen_copy() -> None:
    state = JsonTable()
    check("orig", ORIGINAL, state)
    check("copy", reordered(ORIGINAL), state)
    decision = check("copy-of-copy", reordered(ORIGINAL), state)
    assert (decision.kind, decision.duplicate_of) == ("exact", "orig")


def test_same_id_with_new_content_is_an_update_not_a_duplicate() -> None:
    state = JsonTable()
    check("orig", ORIGINAL, state)
    decision = check("orig", VARIANTS["one_word"](ORIGINAL), state)
    assert (decision.is_duplicate, decision.kind) == (False, "same_id")
    assert decision.similarity is not None and decision.similarity > 0.8
    # The new content is the indexed one now: a copy of it points at the same id.
    assert check("copy", VARIANTS["one_word"](ORIGINAL), state).duplicate_of == "orig"


def test_expiry_forgets_old_articles_and_empties_the_state() -> None:
    config = DedupConfig(window_seconds=3600)
    state = JsonTable()
    decide("a", content_hash(ORIGINAL), signature(ORIGINAL), 0.0, state, config)
    decide(
        "b",
        content_hash(UNRELATED_SAME_TOPIC),
        signature(UNRELATED_SAME_TOPIC),
        1800.0,
        state,
        config,
    )
    assert expire(state, 3700.0, config) == 1
    assert expire(state, 3700.0, config) == 0
    assert "a:a" not in state and "a:b" in state
    late = decide("c", content_hash(ORIGINAL), signature(ORIGINAL), 3700.0, state, config)
    assert late.kind == "new"
    assert expire(state, 10 * 3600.0, config) == 2
    assert set(state) <= {"t:lo", "t:n"}


def test_max_entries_bounds_the_state() -> None:
    config = DedupConfig(max_entries=10, slot_seconds=1.0)
    state = JsonTable()
    for i in range(50):
        text = f"{UNRELATED_SAME_TOPIC} Item number {i} of {i * 7} in series {i * 13}."
        decide(f"n{i}", content_hash(text), signature(text), float(i), state, config)
        expire(state, float(i), config)
    records = [k for k in state if k.startswith("a:")]
    assert len(records) <= 10
    assert "a:n49" in state


def test_signature_is_identical_in_another_process() -> None:
    code = (
        "import json, sys; from processors.stages.dedup import signature; "
        "print(json.dumps(signature(sys.stdin.read())))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=ORIGINAL,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        cwd=Path(__file__).parents[2],
    )
    assert json.loads(out.stdout) == signature(ORIGINAL)


def test_signature_shape_and_empty_text() -> None:
    sig = signature(ORIGINAL, num_perm=64)
    assert len(sig) == 64 and all(0 <= v < 2**32 for v in sig)
    state = JsonTable()
    first = decide("e1", content_hash("!!!"), signature("!!!"), 0.0, state, DedupConfig())
    second = decide("e2", content_hash("?"), signature("?"), 0.0, state, DedupConfig())
    assert first.kind == "new" and second.kind == "exact"
