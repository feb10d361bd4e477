"""Assembling the enriched document from a clean article and its analysis (pure)."""

from __future__ import annotations

from datetime import datetime

from processors.stages.analysis import Analysis
from schemas.article import Article, Enrichment
from schemas.clean import CleanArticle


def enrichment(analysis: Analysis, enriched_by: dict[str, str]) -> Enrichment:
    """The fields of the document that the analysis found."""
    facets = analysis.facets
    return Enrichment(
        language=analysis.language,
        persons=facets.persons,
        organizations=facets.organizations,
        locations=facets.locations,
        entities=facets.entities,
        topics=[t.slug for t in analysis.topics],  # type: ignore[misc]
        topic_scores=analysis.topic_scores,  # type: ignore[arg-type]
        tags=analysis.tags,
        enriched_by=enriched_by,
    )


def enrich(
    article: CleanArticle,
    analysis: Analysis,
    *,
    ingested_at: datetime,
    processed_at: datetime,
    enriched_by: dict[str, str],
) -> Article:
    """The document for ``<ns>-articles``: the clean article plus what the analysis found."""
    return Article.assemble(
        article,
        enrichment(analysis, enriched_by),
        ingested_at=ingested_at,
        processed_at=processed_at,
    )
