"""The labelled topic data of ``../shared/data/topics``, read as :class:`Labelled` articles.

- WCEP (Wikipedia Current Events portal 2010-2020, CC BY-SA 4.0): dated summaries under the
  portal's headings, mapped to IPTC slugs. The one heading for two topics,
  ``health|environment``, is split by the taxonomy rules (``deploy/taxonomy.yaml``): the one
  with more evidence, or the item is left out when neither has any.
- IPTC Media Topics (CC BY 4.0): each live concept's label and definition, labelled with its
  top-level ancestor; weak labels, the only ones for topics WCEP lacks (labour, lifestyle,
  human interest, society, weather, education).
- BBC News (research use only): for evaluation, never for the shipped model.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from processors.stages.topic_train import Labelled
from processors.stages.topics import Taxonomy, evidence, load_taxonomy
from schemas import TOPIC_SLUGS

WCEP = "topics/wcep-2010-2020.jsonl.gz"
IPTC = "topics/iptc-mediatopics-cptall-en-US.json"
BBC = "topics/bbc-dev.jsonl"
# Items from this date on are held out of the shipped model (its short-text test set).
HELD_OUT_FROM = "2019-01-01"
BBC_TO_IPTC = {"business": "economy", "entertainment": "arts", "politics": "politics",
               "sport": "sport", "tech": "science"}  # fmt: skip
# The 17 top-level concepts medtop:01000000 .. 17000000 are the contract's slugs, in order.
IPTC_TOP = {f"medtop:{n:02d}000000": slug for n, slug in enumerate(TOPIC_SLUGS, 1)}


@dataclass(frozen=True)
class Dated:
    """A WCEP item: its date and the labelled text."""

    date: str
    doc: Labelled


def _split_health_environment(text: str, taxonomy: Taxonomy) -> str | None:
    found, _ = evidence(None, text, None, taxonomy)
    health, environment = found.get("health", 0.0), found.get("environment", 0.0)
    if health == environment:
        return None
    return "health" if health > environment else "environment"


def read_wcep(data: Path) -> Iterator[Dated]:
    """Every usable WCEP item, in file (date) order."""
    taxonomy = load_taxonomy()
    with gzip.open(data / WCEP, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            slug = item["slug"]
            if slug == "health|environment":
                slug = _split_health_environment(item["text"], taxonomy)
            if slug in TOPIC_SLUGS:
                yield Dated(item["date"], Labelled(None, item["text"], slug))


def wcep_split(data: Path) -> tuple[list[Labelled], list[Labelled]]:
    """WCEP before :data:`HELD_OUT_FROM` (training) and from it on (held out)."""
    train: list[Labelled] = []
    held_out: list[Labelled] = []
    for item in read_wcep(data):
        (train if item.date < HELD_OUT_FROM else held_out).append(item.doc)
    return train, held_out


def read_iptc(data: Path, weight: float = 1.0) -> list[Labelled]:
    """One weak-labelled text per live IPTC concept: its label and definition."""
    concepts = json.loads((data / IPTC).read_text(encoding="utf-8"))["conceptSet"]
    by_code = {c["qcode"]: c for c in concepts}

    def qcode(uri: str) -> str:
        return "medtop:" + uri.rstrip("/").rsplit("/", 1)[-1]

    def top(code: str) -> str | None:
        seen = set()
        while code not in IPTC_TOP:
            links = by_code.get(code, {}).get("broader", [])
            broader = [qcode(b) for b in links if qcode(b) in by_code]
            if not broader or code in seen:
                return None
            seen.add(code)
            code = broader[0]
        return IPTC_TOP[code]

    docs = []
    for concept in concepts:
        slug = top(concept["qcode"])
        label = concept.get("prefLabel", {}).get("en-US")
        if concept.get("retired") or slug is None or not label:
            continue
        definition = concept.get("definition", {}).get("en-US", "")
        docs.append(Labelled(label, definition or label, slug, weight))
    return docs


def read_bbc(data: Path) -> list[Labelled]:
    """BBC News dev articles with their IPTC slug (evaluation only)."""
    docs = []
    for line in (data / BBC).read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        docs.append(Labelled(item["title"], item["body"], BBC_TO_IPTC[item["category"]]))
    return docs
