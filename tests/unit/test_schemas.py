import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel

from newsflow.core.bootstrap import template_body
from schemas import codec
from schemas.alert import Alert
from schemas.article import ENRICHED_BY_KEYS, TOPIC_SLUGS, Article, Enrichment, Entity, TopicSlug
from schemas.clean import CleanArticle
from schemas.deadletter import DeadLetter
from schemas.generate import MODELS, OUT, render
from schemas.raw import RawArticle

NOW = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_checked_in_json_schema_matches_the_model(name):
    stored = (OUT / f"{name}.schema.json").read_text(encoding="utf-8")
    assert stored == render(MODELS[name]), f"schemas/json/{name} drifted: run `make schemas`"


@pytest.mark.parametrize(
    "model",
    [
        RawArticle(body="b", id="1", published_at=NOW, meta={"k": [1, 2]}),
        Article(
            id="a",
            body="text",
            ingested_at=NOW,
            persons=["Ana Ruiz"],
            entities=[Entity(name="Ana Ruiz", label="PERSON", count=2)],
            topics=["economy"],
        ),
        Alert(subscription_id="s", article_id="a", matched_at=NOW, highlights={"body": ["x"]}),
        DeadLetter(
            value="v",
            value_encoding="utf-8",
            error="e",
            reason="r",
            stage="decode",
            topic="t",
            partition=0,
            offset=1,
            failed_at=NOW,
        ),
    ],
)
def test_json_round_trip(model):
    assert codec.loads(type(model), codec.dumps(model)) == model


def test_models_are_frozen():
    article = RawArticle(body="x")
    with pytest.raises(Exception, match="frozen"):
        article.body = "y"  # type: ignore[misc]


def test_alert_id():
    alert = Alert(subscription_id="koksan", article_id="u-1", matched_at=NOW)
    assert alert.id == "koksan:u-1"


def test_topic_slugs_are_the_iptc_top_level():
    assert len(TOPIC_SLUGS) == 17 and len(set(TOPIC_SLUGS)) == 17
    with pytest.raises(ValueError):
        Article(id="a", body="b", ingested_at=NOW, topics=["war"])  # type: ignore[list-item]


def _template_fields(name: str) -> dict:
    return template_body(name, "x")["template"]["mappings"]["properties"]


def _subfields(name: str, annotation: Any) -> set[str] | None:
    """The keys a field's object holds, when the model fixes them: a nested model's fields
    (also in a list), a ``Literal``-keyed dict's literals, the ``enriched_by`` keys."""
    if name == "enriched_by":
        return set(ENRICHED_BY_KEYS)
    if get_origin(annotation) is list:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return set(annotation.model_fields)
    if get_origin(annotation) is dict and get_origin(get_args(annotation)[0]) is Literal:
        return set(get_args(get_args(annotation)[0]))
    return None


def mapping_drift(model: type[BaseModel], props: dict[str, Any]) -> list[str]:
    """Each field the model and a strict mapping do not share, one line naming it."""
    fields = model.model_fields
    drift = [f"{f}: in {model.__name__} but not mapped" for f in fields if f not in props]
    drift += [f"{f}: mapped but not in {model.__name__}" for f in props if f not in fields]
    for name in fields.keys() & props.keys():
        keys = _subfields(name, fields[name].annotation)
        mapped = set(props[name].get("properties", {}))
        if keys is not None:
            drift += [f"{name}.{k}: in {model.__name__} but not mapped" for k in keys - mapped]
            drift += [f"{name}.{k}: mapped but not in {model.__name__}" for k in mapped - keys]
    return sorted(drift)


@pytest.mark.parametrize(("template", "model"), [("articles", Article), ("deadletter", DeadLetter)])
def test_index_template_maps_exactly_the_model_fields(template, model):
    drift = mapping_drift(model, _template_fields(template))
    assert not drift, f"deploy/elasticsearch/v8/{template}.json: " + "; ".join(drift)


def test_a_field_added_to_the_model_alone_is_named():
    class WithSentiment(Article):
        sentiment: float = 0.0

    props = _template_fields("articles")
    assert mapping_drift(WithSentiment, props) == ["sentiment: in WithSentiment but not mapped"]
    props["topic_scores"]["properties"]["war"] = {"type": "half_float"}
    assert mapping_drift(Article, props) == ["topic_scores.war: mapped but not in Article"]


def test_topic_slugs_are_the_topic_literal():
    assert get_args(TopicSlug) == TOPIC_SLUGS


def test_an_article_is_a_clean_article_plus_its_enrichment():
    fields = set(Article.model_fields)
    assert set(CleanArticle.model_fields) <= fields and set(Enrichment.model_fields) <= fields


def test_article_template_types_suit_their_use():
    props = _template_fields("articles")
    for facet in ("persons", "organizations", "locations", "topics", "tags", "source", "story_id"):
        assert props[facet]["type"] == "keyword", facet
    for when in ("published_at", "ingested_at"):
        assert props[when]["type"] == "date"
    assert props["body"]["type"] == "text" and props["title"]["type"] == "text"
    assert props["is_duplicate"]["type"] == "boolean"


def test_a_full_document_is_accepted_by_a_strict_mapping_shape():
    doc = Article(id="a", body="b", ingested_at=NOW).model_dump(mode="json")
    props = _template_fields("articles")
    assert set(doc) <= set(props)
    assert json.loads(json.dumps(doc))["is_duplicate"] is False


def test_template_files_are_valid_json():
    for path in (Path(__file__).resolve().parents[2] / "deploy" / "elasticsearch").rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
