"""Assembling the enriched document from a clean article and its analysis (pure)."""

from __future__ import annotations

from datetime import datetime

from processors.stages.analysis import Analysis
from schemas.article import Article
from schemas.clean import CleanArticle


def enrich(
    article: CleanArticle,
    analysis: Analysis,
    *,
    ingested_at: datetime,
    processed_at: datetime,
    enriched_by: dict[str, str],
) -> Article:
    """The document for ``<ns>-articles``: the clean article plus what the analysis found."""
    facets = analysis.facets
    return Article(
        id=article.id,
        url=article.url,
        source=article.source,
        title=article.title,
        body=article.body,
        published_at=article.published_at,
        ingested_at=ingested_at,
        processed_at=processed_at,
        language=analysis.language,
        persons=facets.persons,
        organizations=facets.organizations,
        locations=facets.locations,
        entities=facets.entities,
        topics=[t.slug for t in analysis.topics],  # type: ignore[misc]
        topic_scores=analysis.topic_scores,  # type: ignore[arg-type]
        tags=analysis.tags,
        content_hash=article.content_hash,
        meta=article.meta,
        enriched_by=enriched_by,
        replay_tag=article.replay_tag,
        alerts_suppressed=article.alerts_suppressed,
    )
