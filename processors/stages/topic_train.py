"""Fitting, saving and checking a topic model on labelled texts.

The model is :mod:`processors.stages.topic_model`.

scikit-learn does the fitting (``TfidfVectorizer`` and a multinomial ``LogisticRegression``);
only plain arrays are saved, so the worker reads a model with numpy alone. Labelled input is
JSONL, one article a line: ``{"title": ..., "body": ..., "topics": ["economy", ...]}``
(the first topic is the one learned; ``topics`` may also be one string).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from newsflow.core.errors import ConfigError
from processors.stages.topic_model import (
    ModelCard,
    TextSettings,
    TopicModel,
    features,
    file_sha256,
)
from schemas import TOPIC_SLUGS


@dataclass(frozen=True)
class Labelled:
    """One labelled text: its title (optional), body, topic slug and training weight."""

    title: str | None
    body: str
    topic: str
    weight: float = 1.0


@dataclass(frozen=True)
class FitSettings:
    """Hyperparameters of :func:`fit` (chosen on WCEP held out by date: docs/QUALITY.md)."""

    text: TextSettings = field(default_factory=lambda: TextSettings())
    c: float = 10.0  # inverse L2 strength of the logistic regression
    min_df: int = 2
    max_features: int = 60_000
    # Class weights are (n / (k * n_class)) ** balance over the *weighted* counts (a text of
    # weight 10 counts 10): 0 keeps the data's priors, 1 gives every class the same total
    # weight, so the model's implied prior is uniform (docs/QUALITY.md: prior shift).
    balance: float = 0.5


def read_labelled(path: Path) -> list[Labelled]:
    """Labelled articles from a JSONL file; a bad line is a one-line :class:`ConfigError`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    docs = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            docs.append(_labelled_line(line, f"{path}:{number}"))
    if not docs:
        raise ConfigError(f"{path}: no labelled articles")
    return docs


def _labelled_line(line: str, where: str) -> Labelled:
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected an object with title, body, topics")
    topics = item.get("topics")
    topics = [topics] if isinstance(topics, str) else topics
    title, body = item.get("title"), item.get("body")
    if not isinstance(body, str) or not body.strip():
        raise ConfigError(f"{where}: 'body' must be a non-empty string")
    if title is not None and not isinstance(title, str):
        raise ConfigError(f"{where}: 'title' must be a string")
    if not isinstance(topics, list) or not topics or topics[0] not in TOPIC_SLUGS:
        raise ConfigError(
            f"{where}: 'topics' must list IPTC slugs, the first one of {', '.join(TOPIC_SLUGS)}"
        )
    return Labelled(title, body, topics[0])


def class_weights(docs: Sequence[Labelled], balance: float) -> dict[str, float]:
    """Per-topic weights ``(n / (k n_topic)) ** balance``, ``n`` counting each text's weight."""
    counts: dict[str, float] = {}
    for doc in docs:
        counts[doc.topic] = counts.get(doc.topic, 0.0) + doc.weight
    n, k = sum(counts.values()), len(counts)
    return {slug: (n / (k * c)) ** balance for slug, c in counts.items()}


def fit(
    docs: Sequence[Labelled],
    settings: FitSettings,
    progress: Callable[[Iterable[Labelled]], Iterable[Labelled]] = iter,
) -> dict[str, np.ndarray]:
    """Fit TF-IDF and a logistic regression; the arrays a :class:`TopicModel` reads."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if len({d.topic for d in docs}) < 2:
        raise ConfigError("training needs at least two different topics")
    grams = [features(d.title, d.body, settings.text) for d in progress(docs)]
    vectorizer = TfidfVectorizer(
        analyzer=_identity,
        sublinear_tf=True,
        min_df=min(settings.min_df, len(docs)),
        max_features=settings.max_features,
        dtype=np.float64,
    )
    x = vectorizer.fit_transform(grams)
    labels = [d.topic for d in docs]
    class_weight = class_weights(docs, settings.balance)
    weights = np.array([d.weight * class_weight[d.topic] for d in docs])
    model = LogisticRegression(C=settings.c, max_iter=150, tol=1e-3)
    model.fit(x, labels, sample_weight=weights)
    classes = [str(c) for c in model.classes_]
    coef, intercept = model.coef_, model.intercept_
    if len(classes) == 2:  # binary: one column; make it a two-class softmax
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return {
        "vocabulary": np.array(vectorizer.get_feature_names_out(), dtype=str),
        "idf": vectorizer.idf_.astype(np.float32),
        "coef": coef.T.astype(np.float16),
        "intercept": intercept.astype(np.float32),
        "classes": np.array(classes, dtype=str),
    }


def _identity(grams: list[str]) -> list[str]:
    return grams


def save_model(
    arrays: dict[str, np.ndarray], base: Path, card_fields: dict[str, Any], text: TextSettings
) -> Path:
    """Write ``<base>.npz`` and its card ``<base>.json``; returns the card's path."""
    base.parent.mkdir(parents=True, exist_ok=True)
    npz = base.with_suffix(".npz")
    classes = [str(c) for c in arrays["classes"]]
    with npz.open("wb") as out:
        saved: dict[str, Any] = {k: v for k, v in arrays.items() if k != "classes"}
        np.savez_compressed(out, **saved)
    card = ModelCard(
        name=base.name.split("-v")[0] if "-v" in base.name else base.name,
        classes=classes,
        text=text,
        sha256=file_sha256(npz),
        **card_fields,
    )
    path = base.with_suffix(".json")
    path.write_text(json.dumps(card.model_dump(), indent=2, ensure_ascii=False) + "\n")
    return path


@dataclass
class Confusion:
    """Gold topic -> predicted top-1 topic counts, with accuracy and per-class recall."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, gold: str, predicted: str) -> None:
        """Count one article."""
        self.counts.setdefault(gold, Counter())[predicted] += 1

    @property
    def total(self) -> int:
        """Articles counted."""
        return sum(sum(c.values()) for c in self.counts.values())

    @property
    def accuracy(self) -> float:
        """Share of articles whose top-1 topic is the gold one."""
        right = sum(c[gold] for gold, c in self.counts.items())
        return right / self.total if self.total else 0.0

    def recall(self, gold: str) -> float:
        """Share of the ``gold`` articles predicted ``gold``."""
        row = self.counts.get(gold, Counter())
        return row[gold] / sum(row.values()) if row else 0.0

    def lines(self) -> list[str]:
        """The confusion table, one line per gold class, the largest errors named."""
        out = []
        for gold in sorted(self.counts):
            row = self.counts[gold]
            errors = ", ".join(f"{p} {n}" for p, n in row.most_common() if p != gold)
            out.append(
                f"    {gold:<15} {self.recall(gold):.3f} ({row[gold]}/{sum(row.values())})"
                + (f"  errors: {errors}" if errors else "")
            )
        return out


def evaluate(
    model: TopicModel,
    docs: Iterable[Labelled],
    progress: Callable[[Iterable[Labelled]], Iterable[Labelled]] = iter,
) -> Confusion:
    """Top-1 confusion of ``model`` on labelled articles."""
    confusion = Confusion()
    for doc in progress(docs):
        scores = model.scores(doc.title, doc.body)
        confusion.add(doc.topic, max(scores, key=lambda s: scores[s]))
    return confusion
