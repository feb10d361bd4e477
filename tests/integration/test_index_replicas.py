"""``number_of_replicas`` of a namespace's indices follows NEWSFLOW_ES_REPLICAS (or
NEWSFLOW_ES_NODES − 1), on the real Elasticsearch; unset, the templates' own 0 stays."""

from __future__ import annotations

from newsflow.core.bootstrap import ensure_templates
from tests.support import Namespace


def _replicas(ns: Namespace) -> tuple[str, object]:
    """The articles index's number_of_replicas, and its template's."""
    index = ns.names.articles_index
    settings = ns.es.indices.get_settings(index=index)[index]["settings"]["index"]
    (template,) = ns.es.indices.get_index_template(name=f"{ns.settings.namespace}-articles")[
        "index_templates"
    ]
    return settings["number_of_replicas"], template["index_template"]["template"]["settings"][
        "index"
    ]["number_of_replicas"]


def test_bootstrap_sets_the_replicas_asked_for_on_templates_and_existing_indices(
    namespace: Namespace,
) -> None:
    ns = namespace
    assert _replicas(ns) == ("0", "0")  # unset: the single node as it always was
    # One node here: the replica stays unassigned (yellow) for the few seconds of the test.
    ensure_templates(ns.settings.model_copy(update={"es_nodes": 2}), ns.names)
    assert _replicas(ns) == ("1", "1")
    ensure_templates(ns.settings, ns.names)  # a process without the setting
    assert _replicas(ns)[0] == "1"  # existing indices keep theirs
    ensure_templates(ns.settings.model_copy(update={"es_nodes": 2, "es_replicas": 0}), ns.names)
    assert _replicas(ns) == ("0", "0")
