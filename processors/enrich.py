"""Assembling the enriched document from the outputs of the pure stages (pure)."""

from __future__ import annotations

from datetime import datetime

from processors.entities import EntityFacets
from processors.topics import TopicScore
from schemas.article import Article
from schemas.clean import CleanArticle

NO_FACETS = EntityFacets(persons=[], organizations=[], locations=[], entities=[])


def nlp_text(article: CleanArticle) -> str:
    """The text NER reads: the headline (if any) as its own paragraph, then the body."""
    return f"{article.title}\n\n{article.body}" if article.title else article.body


def enrich(
    article: CleanArticle,
    *,
    language: str | None,
    facets: EntityFacets,
    topics: list[TopicScore],
    tags: list[str],
    ingested_at: datetime,
) -> Article:
    """The document for ``<ns>-articles``: the clean article plus what the stages found."""
    return Article(
        id=article.id,
        url=article.url,
        source=article.source,
        title=article.title,
        body=article.body,
        published_at=article.published_at,
        ingested_at=ingested_at,
        language=language,
        persons=facets.persons,
        organizations=facets.organizations,
        locations=facets.locations,
        entities=facets.entities,
        topics=[t.slug for t in topics],  # type: ignore[misc]
        tags=tags,
        content_hash=article.content_hash,
        meta=article.meta,
    )
