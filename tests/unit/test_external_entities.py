"""The CoNLL reader and the name-matching rule of ``evaluation.external.entities``.

The CoNLL snippet is invented; the real file is read only by the evaluation command.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from evaluation.external.entities import (
    FacetScore,
    detokenize,
    name_key,
    read_conll,
    run,
    same_name,
)
from processors.stages.aliases import AliasTable, load_aliases

SNIPPET = """-DOCSTART- -X- -X- O

PORT NNP B-NP B-LOC
ELLIN NNP I-NP I-LOC
2026-01-05 CD I-NP O

Mira NNP B-NP B-PER
Castell NNP I-NP I-PER
's POS B-NP O
Kessing NNP I-NP B-ORG
Rowing NNP I-NP I-ORG
Club NNP I-NP I-ORG
won VBD B-VP O
in IN B-PP O
Norland NNP B-NP B-LOC
, , O O
Quenby NNP B-NP B-PER
said VBD B-VP O
. . O O

-DOCSTART- -X- -X- O

Acme NNP B-NP B-ORG
Corp NNP I-NP I-ORG
fell VBD B-VP O
. . O O
"""


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return load_aliases()


def test_read_conll_documents_and_gold_names(tmp_path: Path) -> None:
    path = tmp_path / "mini.txt"
    path.write_text(SNIPPET, "utf-8")
    first, second = read_conll(path)
    assert first.gold == {
        "persons": frozenset({"Mira Castell", "Quenby"}),
        "organizations": frozenset({"Kessing Rowing Club"}),
        "locations": frozenset({"PORT ELLIN", "Norland"}),
    }
    assert first.text.title == "PORT ELLIN 2026-01-05"
    assert first.text.body.startswith("Mira Castell's Kessing Rowing Club won in Norland,")
    assert second.gold["organizations"] == frozenset({"Acme Corp"})
    assert second.text.body == ""


def test_detokenize() -> None:
    assert detokenize(["Castell", "'s", "boat", "(", "Norland", ")", "won", "."]) == (
        "Castell's boat (Norland) won."
    )


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Clinton", "Bill Clinton", True),
        ("Bill Clinton", "Hillary Clinton", False),
        ("U.S.", "United States", True),  # through the alias table
        ("BBC", "British Broadcasting Corporation", True),  # an acronym
        ("the Kremlin's", "Kremlin", True),
        ("PORT ELLIN", "Port Ellin", True),
        ("Norland", "Kessing", False),
        ("KRC", "Kessing", False),
    ],
)
def test_matching_rule(aliases: AliasTable, a: str, b: str, same: bool) -> None:
    assert same_name(name_key(a, aliases), name_key(b, aliases)) is same


def test_facet_score_counts_names_not_pairs(aliases: AliasTable) -> None:
    score = FacetScore()
    score.add(["Bill Clinton", "Clinton", "Quenby"], frozenset({"Clinton", "Al Gore"}), aliases)
    assert (score.predicted, score.right, score.gold, score.found) == (3, 2, 2, 1)
    assert score.precision == pytest.approx(2 / 3) and score.recall == 0.5
    assert score.wrong == ["Quenby"] and score.missed == ["Al Gore"]


def test_missing_data_is_skipped_with_a_reason(tmp_path: Path) -> None:
    result = run(tmp_path, argparse.Namespace(ablation=False, cost=False))
    assert "not found" in result["skipped"]
