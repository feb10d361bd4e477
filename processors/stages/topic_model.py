"""Learned IPTC top-level topics: a linear model over word n-grams, applied with numpy only.

A model is two files side by side: ``<name>.npz`` (the vocabulary, its idf weights, the
coefficients and intercepts; plain arrays, loaded with ``allow_pickle=False``, so no code is
ever unpickled and no scikit-learn version is needed to read it) and ``<name>.json`` (its
version, classes, text settings, licence and attribution of its training data). Training
lives in :mod:`processors.stages.topic_train`; the shipped model is ``deploy/models/topics-v1``.

Features are TF-IDF (sublinear tf, L2 norm, as scikit-learn's ``TfidfVectorizer``) of word
unigrams and bigrams from the title and the leading words of the body: the training data are
one-to-three sentence summaries, so a long article is read like one (its lead), and the tail
of a long article does not drown the headline.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsflow.core.errors import ConfigError
from processors.stages.aliases import DEPLOY_DIR
from processors.stages.topics import TopicScore
from processors.stages.words import folded_words
from schemas import TOPIC_SLUGS

MODELS_DIR = DEPLOY_DIR / "models"
DEFAULT_MODEL = MODELS_DIR / "topics-v1"
# Trailing source citations of Wikipedia's Current Events items: "... (BBC) (Reuters)".
_CITATIONS = re.compile(r"(\s*\([^()]{1,80}\))+\s*$")


class TextSettings(BaseModel):
    """How a model reads an article (fixed at training, stored with the model)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lead_words: int = Field(default=90, ge=1, description="Words of the body read after the title.")
    title_repeat: int = Field(default=2, ge=1, description="The title counts this many times.")
    ngrams: int = Field(default=2, ge=1, le=3, description="Longest word n-gram.")
    chunk_words: int = Field(
        default=0,
        ge=0,
        description="0: read the lead as one text; else score passages of this many body "
        "words (each with the title) and average their probabilities.",
    )


class ModelCard(BaseModel):
    """The ``<name>.json`` of a model: what it is, what it read, under which licence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    classes: list[str]
    text: TextSettings = Field(default_factory=lambda: TextSettings())
    min_score: float = Field(default=0.3, gt=0, le=1, description="Share a second topic needs.")
    max_topics: int = Field(default=3, ge=1)
    rules_weight: float = Field(
        default=0.0, ge=0, lt=1, description="Share of the taxonomy rules in the final scores."
    )
    rules_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Per-topic shares that replace rules_weight (topics the model knows "
        "only from weak labels trust the rules more).",
    )
    licence: str = Field(min_length=1)
    attribution: list[str] = Field(min_length=1)
    training: dict[str, Any] = Field(default_factory=dict)
    sha256: str = Field(min_length=64, max_length=64, description="Of the .npz file.")

    @field_validator("rules_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if k not in TOPIC_SLUGS or not 0 <= v < 1}
        if bad:
            raise ValueError(f"rules_weights need IPTC slugs and shares in [0, 1): {bad}")
        return value

    @field_validator("classes")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(TOPIC_SLUGS))
        if unknown or len(set(value)) != len(value) or not value:
            raise ValueError(f"classes must be distinct IPTC slugs; unknown {unknown}")
        return value


def strip_citations(text: str) -> str:
    """A Current Events item without its trailing ``(Source)`` citations."""
    return _CITATIONS.sub("", text)


def model_text(title: str | None, body: str, text: TextSettings) -> list[str]:
    """The words a model reads: the title ``title_repeat`` times, then the body's lead."""
    head = folded_words(title or "")
    lead = folded_words(strip_citations(body))[: text.lead_words]
    return head * text.title_repeat + lead


def ngrams(tokens: list[str], longest: int) -> list[str]:
    """Word n-grams up to ``longest`` (joined by a space), the features of the model."""
    grams = list(tokens)
    for n in range(2, longest + 1):
        grams += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return grams


def features(title: str | None, body: str, text: TextSettings) -> list[str]:
    """The n-gram features of one article read as one text (as in training)."""
    return ngrams(model_text(title, body, text), text.ngrams)


def passages(title: str | None, body: str, text: TextSettings) -> list[list[str]]:
    """The n-gram features of each passage the model scores (one unless ``chunk_words``)."""
    if not text.chunk_words:
        return [features(title, body, text)]
    head = folded_words(title or "") * text.title_repeat
    lead = folded_words(strip_citations(body))[: text.lead_words]
    size = text.chunk_words
    chunks = [lead[i : i + size] for i in range(0, len(lead), size)] or [[]]
    return [ngrams(head + chunk, text.ngrams) for chunk in chunks]


@dataclass(frozen=True)
class TopicModel:
    """A loaded linear topic model; :meth:`scores` gives a probability per class."""

    card: ModelCard
    vocabulary: dict[str, int] = field(repr=False)
    idf: np.ndarray = field(repr=False)  # (V,)
    coef: np.ndarray = field(repr=False)  # (V, C): one column per class
    intercept: np.ndarray = field(repr=False)  # (C,)
    digest: str = ""  # of the card file, which holds the arrays' sha256: both files count

    @property
    def version(self) -> str:
        """What ``enriched_by.topic_model`` records: name, version and a content hash."""
        return f"{self.card.name}-{self.card.version}+{(self.digest or self.card.sha256)[:8]}"

    def scores(self, title: str | None, body: str) -> dict[str, float]:
        """Probability of each class for one article: the mean over its passages."""
        probs = np.mean([self._probabilities(g) for g in passages(title, body, self.card.text)], 0)
        return {slug: float(p) for slug, p in zip(self.card.classes, probs, strict=True)}

    def _probabilities(self, grams: list[str]) -> np.ndarray:
        """Softmax of the linear scores of one text's TF-IDF vector."""
        counts = Counter(i for i in map(self.vocabulary.get, grams) if i is not None)
        logits = self.intercept.astype(np.float64)
        if counts:
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), np.float64)
            weights = tf * self.idf[idx]
            weights /= np.linalg.norm(weights)
            logits = logits + weights @ self.coef[idx].astype(np.float64)
        exp = np.exp(logits - logits.max())
        return np.asarray(exp / exp.sum())

    def topics(
        self, title: str | None, body: str, rules: Sequence[TopicScore] = ()
    ) -> tuple[list[TopicScore], dict[str, float]]:
        """The chosen topics (best first) and every class's score, rounded for the document.

        ``rules`` are the taxonomy rules' topics with their shares of the evidence; they count
        ``rules_weight`` in the final scores. The best class is always chosen; another needs
        ``min_score``.
        """
        card = self.card
        probs = blend(self.scores(title, body), rules, card.rules_weight, card.rules_weights)
        ranked = sorted(probs.items(), key=lambda kv: (-kv[1], TOPIC_SLUGS.index(kv[0])))
        chosen = [
            TopicScore(slug, round(p, 3))
            for i, (slug, p) in enumerate(ranked[: self.card.max_topics])
            if i == 0 or p >= self.card.min_score
        ]
        return chosen, {slug: round(p, 3) for slug, p in probs.items()}


def blend(
    probs: dict[str, float],
    rules: Sequence[TopicScore],
    weight: float,
    per_topic: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Per topic ``(1 - w) * prob + w * rule share``, normalized; ``w`` is ``weight`` unless
    ``per_topic`` names the topic. The probabilities alone when the rules found nothing.

    >>> blend({"sport": 0.6, "arts": 0.4}, [TopicScore("arts", 1.0)], 0.5)
    {'sport': 0.3, 'arts': 0.7}
    """
    if not rules:
        return probs
    shares, per_topic = {t.slug: t.score for t in rules}, per_topic or {}
    mixed = {}
    for slug, p in probs.items():
        w = per_topic.get(slug, weight)
        mixed[slug] = (1 - w) * p + w * shares.get(slug, 0.0)
    total = sum(mixed.values()) or 1.0
    return {slug: value / total for slug, value in mixed.items()}


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card_path(model: Path) -> Path:
    """The ``.json`` of a model path given with or without a suffix."""
    return model.with_suffix(".json")


def load_topic_model(model: Path | None = None) -> TopicModel:
    """Load and check a model (default ``deploy/models/topics-v1``); problems are ConfigError.

    The ``.npz`` must match the hash its card records, so a card never describes other
    coefficients than the ones loaded.
    """
    base = (model or DEFAULT_MODEL).with_suffix("")
    if base.is_dir():  # a folder written by ``newsflow topics train --out DIR``
        found = sorted(base.glob("*.json"))
        if len(found) != 1:
            raise ConfigError(f"{base}: expected one model card (*.json), found {len(found)}")
        base = found[0].with_suffix("")
    card_file, arrays_file = base.with_suffix(".json"), base.with_suffix(".npz")
    try:
        card_bytes = card_file.read_bytes()
        card = ModelCard.model_validate(json.loads(card_bytes.decode("utf-8")))
        digest = file_sha256(arrays_file)
        with np.load(arrays_file, allow_pickle=False) as arrays:
            vocab, idf = arrays["vocabulary"], arrays["idf"]
            coef, intercept = arrays["coef"], arrays["intercept"]
    except OSError as exc:
        raise ConfigError(f"cannot read topic model {base}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, ValidationError) as exc:
        raise ConfigError(f"topic model {base} is malformed: {str(exc).splitlines()[0]}") from None
    if digest != card.sha256:
        raise ConfigError(f"{arrays_file}: sha256 differs from {card_file.name}")
    n_vocab, n_classes = len(vocab), len(card.classes)
    if (
        idf.shape != (n_vocab,)
        or coef.shape != (n_vocab, n_classes)
        or intercept.shape != (n_classes,)
    ):
        raise ConfigError(f"{arrays_file}: array shapes do not match the vocabulary and classes")
    return TopicModel(
        card=card,
        vocabulary={str(term): i for i, term in enumerate(vocab.tolist())},
        idf=idf.astype(np.float64),
        coef=coef,
        intercept=intercept.astype(np.float64),
        digest=hashlib.sha256(card_bytes).hexdigest(),
    )
