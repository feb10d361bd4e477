"""What `newsflow reprocess --from index` sends back to <ns>.raw for a stored document."""

from __future__ import annotations

from newsflow.cli import reprocess
from schemas.raw import RawArticle


def test_every_raw_field_of_a_document_is_read_back_and_sent() -> None:
    # A document from `replay --tag t --no-alerts` must stay tagged and silent once reprocessed.
    assert set(reprocess.SOURCE_FIELDS) == set(RawArticle.model_fields)


def test_the_raw_article_of_a_document_keeps_its_tag_and_suppression_not_its_enrichment() -> None:
    doc = {
        "id": "a1",
        "body": "Text.",
        "title": "T",
        "replay_tag": "backfill-7",
        "alerts_suppressed": True,
        "persons": ["Someone"],
        "url": None,
    }
    raw = reprocess.raw_of(doc)
    assert raw == {
        "id": "a1",
        "body": "Text.",
        "title": "T",
        "replay_tag": "backfill-7",
        "alerts_suppressed": True,
    }
    RawArticle.model_validate(raw)
