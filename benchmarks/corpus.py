"""A seeded benchmark corpus: N unique news-length articles, a controlled share of copies.

Sentences come from the project's sample corpus and the seed articles (read at run time,
never stored); each unique article draws its own sentences, so two unique articles share
almost nothing and only the planted copies are duplicates.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from producers.files import txt_article

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT / "corpus" / "sample", ROOT.parent / "shared" / "corpus" / "seeds")
_SENTENCE = re.compile(r"(?<=[.!?”\"])\s+(?=[A-Z“\"])")


@dataclass(frozen=True)
class BenchArticle:
    """One benchmark article; ``copy_of`` names the article it copies, if any."""

    id: str
    title: str
    body: str
    published_at: str
    copy_of: str | None = None

    def raw(self) -> dict[str, str]:
        """The raw-article JSON fields."""
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "published_at": self.published_at,
        }


def sentences() -> list[str]:
    """Every sentence of the sample corpus and the seeds, deduplicated, in a stable order."""
    found: dict[str, None] = {}
    for folder in SOURCES:
        for path in sorted(folder.glob("*.txt")):
            body = txt_article(path.read_text(encoding="utf-8"))["body"]
            for paragraph in body.split("\n\n"):
                for sentence in _SENTENCE.split(" ".join(paragraph.split())):
                    if 40 <= len(sentence) <= 400 and "<" not in sentence:
                        found.setdefault(sentence)
    return list(found)


def generate(
    n: int = 2000, seed: int = 7, exact_share: float = 0.03, near_share: float = 0.07
) -> list[BenchArticle]:
    """``n`` articles: unique ones, then exact and near copies of earlier ones, shuffled in."""
    rng = random.Random(seed)
    pool = sentences()
    copies = int(n * exact_share) + int(n * near_share)
    uniques: list[BenchArticle] = []
    for i in range(n - copies):
        chosen = rng.sample(pool, rng.randint(16, 22))
        paragraphs = [" ".join(chosen[j : j + 3]) for j in range(1, len(chosen), 3)]
        day = 1 + i % 28
        uniques.append(
            BenchArticle(
                id=f"bench-{seed}-{i}",
                title=chosen[0][:120],
                body="\n\n".join(paragraphs),
                published_at=f"2026-10-{day:02d}T{i % 24:02d}:00:00+00:00",
            )
        )
    articles = list(uniques)
    for k in range(copies):
        first = rng.choice(uniques)
        exact = k < int(n * exact_share)
        body = first.body if exact else _edit(first.body, rng)
        articles.append(
            BenchArticle(f"{first.id}-copy{k}", first.title, body, first.published_at, first.id)
        )
    head, tail = articles[:200], articles[200:]
    rng.shuffle(tail)  # copies arrive after their first copy, as on a wire
    return head + tail


def _edit(body: str, rng: random.Random) -> str:
    """A syndicated edit: an UPDATED prefix, or the last paragraph dropped."""
    paragraphs = body.split("\n\n")
    if rng.random() < 0.5 and len(paragraphs) > 3:
        return "\n\n".join(paragraphs[:-1])
    return f"UPDATED {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} — {body}"
