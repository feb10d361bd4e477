"""The learned topic model: the shipped file and its provenance, and the code on tiny data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from newsflow.core.errors import ConfigError
from processors.stages.topic_model import (
    DEFAULT_MODEL,
    TextSettings,
    TopicModel,
    blend,
    features,
    file_sha256,
    load_topic_model,
    strip_citations,
)
from processors.stages.topic_train import (
    Confusion,
    FitSettings,
    Labelled,
    class_weights,
    evaluate,
    fit,
    save_model,
)
from processors.stages.topics import TopicScore
from schemas import TOPIC_SLUGS

SPORT = [
    "The striker scored twice and the goalkeeper saved a penalty in the league match.",
    "The champions won the cup final after extra time, the coach praised the team.",
    "A hat-trick from the forward sealed the league title for the club.",
    "The tennis champion won the final in straight sets at the open.",
]
ECONOMY = [
    "The central bank raised interest rates as inflation climbed and shares fell.",
    "Quarterly profits at the company jumped and its shares rose on the stock market.",
    "The bank cut its growth forecast as exports slowed and the currency weakened.",
    "Investors sold shares after the firm warned that profits would fall.",
]
TINY = [Labelled(None, t, "sport") for t in SPORT] + [Labelled(None, t, "economy") for t in ECONOMY]
TINY_FIT = FitSettings(min_df=1, c=10.0, balance=0.0)


def test_full_balance_gives_every_topic_the_same_total_weight_counting_text_weights() -> None:
    # 3 plain sport texts against 1 economy text of weight 10 (as the IPTC weak labels are):
    # balancing must use the weighted counts, or the weak-label topic gets 3x the mass.
    docs = [Labelled(None, t, "sport") for t in SPORT[:3]] + [Labelled(None, "x", "economy", 10)]
    weights = class_weights(docs, 1.0)
    mass = {t: sum(d.weight * weights[t] for d in docs if d.topic == t) for t in weights}
    assert mass["sport"] == pytest.approx(mass["economy"])
    assert class_weights(docs, 0.0) == {"sport": 1.0, "economy": 1.0}


# ---------------------------------------------------------------- the shipped model
def test_the_shipped_model_is_there_with_its_version_licence_and_attribution() -> None:
    card = json.loads(DEFAULT_MODEL.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["version"], "the shipped topic model has no version"
    assert "CC BY-SA 4.0" in card["licence"], "the model is a derivative of CC BY-SA data"
    attribution = " ".join(card["attribution"])
    assert "Wikipedia" in attribution and "Current Events" in attribution
    assert "IPTC" in attribution and "CC BY 4.0" in attribution
    assert "bbc" not in json.dumps(card["training"]).casefold(), "BBC is research-only"
    model = load_topic_model()  # also checks the .npz against the card's sha256
    assert model.version.startswith(f"topics-{card['version']}+")
    assert set(model.card.classes) == set(TOPIC_SLUGS)
    assert DEFAULT_MODEL.with_suffix(".npz").stat().st_size < 5_000_000


def test_the_shipped_model_reads_plain_news() -> None:
    model = load_topic_model()
    chosen, scores = model.topics(
        "Rovers beat City in the derby",
        "The striker scored twice and the goalkeeper saved a late penalty in the league.",
    )
    assert chosen[0].slug == "sport"
    assert set(scores) == set(TOPIC_SLUGS)
    assert sum(scores.values()) == pytest.approx(1.0, abs=0.01)


# ---------------------------------------------------------------- the code, tiny data
@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("model") / "topics-v9"
    card_fields = {"version": "9", "licence": "test", "attribution": ["written for the test"]}
    save_model(fit(TINY, TINY_FIT), base, card_fields, TINY_FIT.text)
    return base


def test_a_model_fitted_on_tiny_data_separates_its_classes(tiny: Path) -> None:
    model = load_topic_model(tiny)
    assert model.version.startswith("topics-9+")
    assert evaluate(model, TINY).accuracy == 1.0
    scores = model.scores("Shares slump", "The bank said profits fell and inflation rose.")
    assert max(scores, key=lambda s: scores[s]) == "economy"


def test_numpy_scores_match_scikit_learn(tiny: Path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    model = load_topic_model(tiny)
    grams = [features(d.title, d.body, TINY_FIT.text) for d in TINY]
    vectorizer = TfidfVectorizer(analyzer=lambda g: g, sublinear_tf=True).fit(grams)
    assert sorted(model.vocabulary) == sorted(vectorizer.vocabulary_)
    x = vectorizer.transform(grams[:1]).toarray()[0]
    order = [vectorizer.vocabulary_[t] for t in sorted(model.vocabulary, key=model.vocabulary.get)]
    logits = x[order] @ model.coef.astype(np.float64) + model.intercept
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    got = model.scores(TINY[0].title, TINY[0].body)
    assert [got[c] for c in model.card.classes] == pytest.approx(expected.tolist(), abs=1e-6)


def test_a_changed_coefficient_file_is_refused(tiny: Path, tmp_path: Path) -> None:
    copy = tmp_path / "topics-v9"
    card = json.loads(tiny.with_suffix(".json").read_text())
    copy.with_suffix(".json").write_text(json.dumps(card))
    data = bytearray(tiny.with_suffix(".npz").read_bytes())
    data[-40] ^= 0xFF
    copy.with_suffix(".npz").write_bytes(bytes(data))
    assert file_sha256(copy.with_suffix(".npz")) != card["sha256"]
    with pytest.raises(ConfigError, match="sha256"):
        load_topic_model(copy)


def test_a_missing_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read topic model"):
        load_topic_model(tmp_path / "nothing-v1")


def test_training_needs_two_topics() -> None:
    with pytest.raises(ConfigError, match="two different topics"):
        fit(TINY[:3], TINY_FIT)


def test_features_read_the_title_twice_and_the_lead_only() -> None:
    text = TextSettings(lead_words=3, title_repeat=2, ngrams=2)
    grams = features("Bank rates", "Inflation rose again in May. Later words.", text)
    assert grams[:7] == ["bank", "rate", "bank", "rate", "inflation", "rose", "again"]
    assert "bank rate" in grams and "may" not in grams


def test_trailing_source_citations_are_not_read() -> None:
    assert strip_citations("Floods hit the north. (BBC) (Reuters)") == "Floods hit the north."
    assert strip_citations("The (new) law passes.") == "The (new) law passes."


def test_blend_gives_the_rules_their_share() -> None:
    probs = {"sport": 0.6, "arts": 0.4}
    assert blend(probs, [], 0.5) == probs
    assert blend(probs, [TopicScore("arts", 1.0)], 0.5) == pytest.approx(
        {"sport": 0.3, "arts": 0.7}
    )


def test_a_second_topic_needs_the_minimum_score(tiny: Path) -> None:
    model = load_topic_model(tiny)
    loose = TopicModel(
        model.card.model_copy(update={"min_score": 0.01}),
        model.vocabulary, model.idf, model.coef, model.intercept,
    )  # fmt: skip
    text = ("Derby win lifts shares", "The club won the match; its shares rose on the market.")
    assert len(loose.topics(*text)[0]) == 2
    assert len(model.topics(*text)[0]) == 1 or model.topics(*text)[0][1].score >= 0.3


def test_confusion_counts_recall_per_class() -> None:
    confusion = Confusion()
    for gold, predicted in [("sport", "sport"), ("sport", "arts"), ("science", "science")]:
        confusion.add(gold, predicted)
    assert confusion.accuracy == pytest.approx(2 / 3)
    assert confusion.recall("sport") == 0.5
    assert "errors: arts 1" in "\n".join(confusion.lines())


def test_a_changed_card_changes_the_version(tiny: Path, tmp_path: Path) -> None:
    copy = tmp_path / "topics-v9"
    copy.with_suffix(".npz").write_bytes(tiny.with_suffix(".npz").read_bytes())
    card = json.loads(tiny.with_suffix(".json").read_text())
    copy.with_suffix(".json").write_text(json.dumps({**card, "rules_weight": 0.5}))
    assert load_topic_model(copy).version != load_topic_model(tiny).version


def test_per_topic_rule_shares_override_the_default() -> None:
    probs = {"sport": 0.5, "labour": 0.5}
    rules = [TopicScore("labour", 1.0)]
    assert blend(probs, rules, 0.0, {"labour": 0.5}) == pytest.approx(
        {"sport": 0.5 / 1.25, "labour": 0.75 / 1.25}
    )


def test_a_duplicate_takes_the_topic_scores_of_its_first_copy() -> None:
    from datetime import UTC, datetime

    from processors.stages.decode import decode
    from processors.worker.pipeline import copy_enrichment
    from schemas.work import Deduped

    item = Deduped(
        article=decode(b'{"body": "Dockers walked out.", "id": "copy"}', 10_000),
        is_duplicate=True,
        duplicate_of="first",
        kind="exact",
    )
    original = {"id": "first", "topics": ["labour"], "topic_scores": {"labour": 0.7}}
    copy = copy_enrichment(item, original, datetime(2026, 1, 1, tzinfo=UTC))
    assert copy.topics == ["labour"] and copy.topic_scores == {"labour": 0.7}


class _NoEntities:
    """Stands in for spaCy: no entities, so the test needs no model (the e2e tests use it)."""

    meta: ClassVar[dict[str, str]] = {"lang": "en", "name": "fake", "version": "0"}

    def pipe(self, texts: object, batch_size: int = 32) -> list[object]:
        return [type("Doc", (), {"ents": []})() for _ in texts]  # type: ignore[attr-defined]


def test_the_analysis_carries_the_models_scores_and_version() -> None:
    from processors.stages.analysis import Analyzer, Text
    from processors.stages.entities import load_aliases
    from processors.stages.topics import load_taxonomy

    model = load_topic_model()
    analyzer = Analyzer(_NoEntities(), load_aliases(), load_taxonomy(), model)
    [sport, german] = analyzer.analyze(
        [
            Text("Rovers beat City", "The striker scored twice in the league match.", "en"),
            Text(None, "Der Stürmer traf zweimal.", "de"),
        ]
    )
    assert sport.topics[0].slug == "sport" and set(sport.topic_scores) == set(TOPIC_SLUGS)
    assert german.topics == [] and german.topic_scores == {}
    assert analyzer.versions["topic_model"] == model.version
