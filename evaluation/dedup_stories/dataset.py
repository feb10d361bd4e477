"""The labelled dedup/story evaluation set, generated deterministically from a seed.

Sources, all read at run time (no third-party text is copied into the repository):

* ``articles.txt`` beside this file: fictional articles written for newsflow, with same-event
  rewrites in other words and unrelated articles on the same broad topics;
* ``corpus/sample/`` (the project's sample corpus), labelled from its README;
* the real seed articles (``/work/shared/corpus/seeds`` or ``$NEWSFLOW_SEEDS``), when present.

Every original gets one copy of each variant kind (:data:`VARIANT_KINDS`), published a little
later under another id and source. Texts go through the pipeline's own ``.txt`` parsing and
cleaning, so the evaluation sees what the ``prepare`` stage sees.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from processors.stages.clean import clean_body, clean_title
from producers.files import txt_article

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SAMPLE_DIR = REPO / "corpus" / "sample"
SEEDS_DIR = Path(os.environ.get("NEWSFLOW_SEEDS", "/work/shared/corpus/seeds"))

# Labels of the sample corpus (from corpus/README.md): file number -> story group.
SAMPLE_STORIES = {
    "001": "port-strike-calvera", "002": "port-strike-calvera", "003": "port-strike-calvera",
    "026": "port-strike-calvera", "004": "storm-greer", "005": "storm-greer",
    "006": "brackenford-election", "007": "brackenford-election",
    "008": "continental-cup-final", "009": "continental-cup-final",
}  # fmt: skip
SAMPLE_DUPLICATES = {"026": "001", "027": "013", "028": "020"}
# The seeds: 000, 001 and 004 report the defence minister's visit to Pyongyang.
SEED_STORIES = {"000": "seed-visit", "001": "seed-visit", "004": "seed-visit"}

VARIANT_KINDS = ("exact", "syndicated", "reordered", "one_word", "updated")
_HEADER = re.compile(r"^=== (\S+) \| (\S+) \| ([\d-]+ [\d:]+) \| ([^|]+) \| (.+)$")
_BYLINE = re.compile(r"^by\s", re.IGNORECASE)
_WORD = re.compile(r"\b[a-z]{5,}\b")
_REPORTERS = ("Lena Hart", "Omar Quist", "Ruth Vale", "Sami Koru", "Ada Brink", "Noor Elst")
_AGENCIES = ("Wire Service", "Press Union", "News Agency", "Daily Network")


@dataclass(frozen=True)
class Item:
    """One article of the evaluation stream with its labels."""

    id: str
    source: str
    title: str | None
    body: str  # clean text, paragraphs separated by a blank line
    published_at: float | None
    story: str  # same label = same event
    duplicate_of: str | None  # the first-seen copy, for a duplicate
    kind: str  # "original" or a variant kind
    origin: str  # "own", "sample" or "seed"


def _clean(raw: dict[str, str]) -> tuple[str | None, str, float | None]:
    marker, body = clean_body(raw["body"])
    stamp = raw.get("published_at")
    when = marker or (datetime.fromisoformat(stamp) if stamp else None)
    return clean_title(raw.get("title")), body, when.timestamp() if when else None


def own_articles(path: Path = HERE / "articles.txt") -> list[Item]:
    """The fictional articles of ``articles.txt``."""
    items: list[Item] = []
    blocks = re.split(r"^(?==== )", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    for block in blocks:
        header, _, text = block.partition("\n")
        match = _HEADER.match(header.strip())
        if not match:
            continue
        ident, event, stamp, source, title = (g.strip() for g in match.groups())
        when = datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
        _, body = clean_body(text)
        story = ident if event == "-" else event
        items.append(Item(ident, source, title, body, when, story, None, "original", "own"))
    return items


def _txt_items(folder: Path, origin: str, stories: dict[str, str]) -> list[Item]:
    items: list[Item] = []
    for path in sorted(folder.glob("*.txt")):
        number = path.name[:3]
        title, body, when = _clean(txt_article(path.read_text(encoding="utf-8")))
        ident = f"{origin}-{number}"
        story = stories.get(number, ident)
        dup = SAMPLE_DUPLICATES.get(number) if origin == "sample" else None
        kind, dup_id = ("original", None) if dup is None else ("given", f"{origin}-{dup}")
        items.append(Item(ident, origin, title, body, when, story, dup_id, kind, origin))
    return items


def base_articles() -> list[Item]:
    """Every original article available: own, sample corpus and seeds (when present)."""
    items = own_articles()
    if SAMPLE_DIR.is_dir():
        sample = _txt_items(SAMPLE_DIR, "sample", SAMPLE_STORIES)
        stories = {i.id: i.story for i in sample}
        items += [
            replace(i, story=stories[i.duplicate_of]) if i.duplicate_of else i for i in sample
        ]
    if SEEDS_DIR.is_dir():
        items += _txt_items(SEEDS_DIR, "seed", SEED_STORIES)
    # An undated article is timed by its arrival, as in the pipeline (ingestion time): the
    # replay comes a day after the newest dated article.
    arrival = max(i.published_at for i in items if i.published_at is not None) + 86400.0
    return [i if i.published_at is not None else replace(i, published_at=arrival) for i in items]


def _paragraphs(body: str) -> list[str]:
    return [p for p in body.split("\n\n") if p.strip()]


def _syndicated(body: str, rng: random.Random) -> str:
    parts = _paragraphs(body)
    if parts and _BYLINE.match(parts[0]):
        parts = parts[1:]
    if len(parts) > 1:
        parts = parts[:-1]
    byline = f"By {rng.choice(_REPORTERS)}, {rng.choice(_AGENCIES)}"
    return "\n\n".join([byline, *parts])


def _reordered(body: str, rng: random.Random) -> str:
    parts = _paragraphs(body)
    if len(parts) < 2:
        sentences = re.split(r"(?<=[.!?])\s+", body)
        return " ".join(sentences[1:] + sentences[:1])
    first = rng.randrange(1 if len(parts) > 2 else 0, len(parts) - 1)
    parts[first], parts[first + 1] = parts[first + 1], parts[first]
    return "\n\n".join(parts)


def _one_word(body: str, rng: random.Random) -> str:
    words = list(_WORD.finditer(body))
    target = rng.choice(words)
    swap = rng.choice(("several", "recently", "notably", "eastern", "certain", "another"))
    return body[: target.start()] + swap + body[target.end() :]


def _updated(body: str, rng: random.Random) -> str:
    return f"UPDATED {rng.randrange(6, 23):02d}:{rng.randrange(60):02d} — {body}"


VARIANTS: dict[str, Callable[[str, random.Random], str]] = {
    "exact": lambda body, rng: body,
    "syndicated": _syndicated,
    "reordered": _reordered,
    "one_word": _one_word,
    "updated": _updated,
}


def variants(item: Item, rng: random.Random) -> Iterator[Item]:
    """One copy of ``item`` per variant kind, published 5 minutes to 20 hours later."""
    for kind in VARIANT_KINDS:
        delay = rng.uniform(300.0, 20 * 3600.0)
        when = None if item.published_at is None else item.published_at + delay
        body = VARIANTS[kind](item.body, rng)
        yield replace(
            item,
            id=f"{item.id}~{kind}",
            source=f"{item.source} (copy)",
            body=body,
            published_at=when,
            duplicate_of=item.id,
            kind=kind,
        )


def stream(seed: int = 7) -> list[Item]:
    """The whole labelled stream in arrival order (by publication time, originals first)."""
    rng = random.Random(seed)
    items = base_articles()
    originals = [i for i in items if i.kind == "original"]
    everything = items + [v for i in originals for v in variants(i, rng)]
    order = {id(i): n for n, i in enumerate(everything)}
    return sorted(everything, key=lambda i: (i.published_at or 0.0, order[id(i)]))
