"""``enriched_by``: the worker and ``newsflow reprocess`` compute the same versions."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from processors.stages.analysis import Analyzer
from processors.stages.entities import load_aliases
from processors.stages.topic_model import load_topic_model
from processors.stages.topics import load_taxonomy
from processors.stages.versions import MODEL, installed_versions, model_version
from schemas.article import ENRICHED_BY_KEYS


def test_installed_versions_name_every_key_the_index_maps() -> None:
    assert tuple(installed_versions()) == ENRICHED_BY_KEYS


def test_the_model_version_is_the_installed_package_and_its_version() -> None:
    assert installed_versions()["model"] == f"{MODEL}-{version(MODEL)}"
    assert model_version({"lang": "en", "name": "core_web_sm", "version": "3.8.0"}) == (
        "en_core_web_sm-3.8.0"
    )


def test_the_loaded_analyzer_records_what_reprocess_compares_with() -> None:
    """What the worker writes on each document equals what ``newsflow reprocess`` expects:
    otherwise every document would look stale, or none would after an upgrade."""
    pytest.importorskip("spacy")
    from processors.worker.nlp import load_model

    analyzer = Analyzer(load_model(), load_aliases(), load_taxonomy(), load_topic_model())
    assert analyzer.versions == installed_versions()
