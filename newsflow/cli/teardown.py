"""Delete everything of a namespace: indices, index templates, topics, consumer group.

For tests and benchmarks, which make a namespace per run. Elasticsearch refuses wildcard
deletes here (``action.destructive_requires_name``), so indices are deleted by name.
"""

from __future__ import annotations

import contextlib
from typing import Any

from newsflow.core.clients import es_client, kafka_admin
from newsflow.core.names import Names
from newsflow.core.settings import Settings


def drop_indices(es: Any, namespace: str) -> list[str]:
    """Delete the indices and index templates of ``namespace``; returns the indices."""
    found = list(
        es.indices.get(index=f"{namespace}-*", expand_wildcards="all", allow_no_indices=True)
    )
    for start in range(0, len(found), 50):
        es.indices.delete(index=",".join(found[start : start + 50]))
    templates = es.options(ignore_status=404).indices.get_index_template(name=f"{namespace}-*")
    for template in templates.get("index_templates", []):
        es.indices.delete_index_template(name=template["name"])
    return found


def drop_topics(admin: Any, namespace: str) -> list[str]:
    """Delete the topics of ``namespace`` (its own and the Faust app's); returns them."""
    app_id = Names(namespace).app_id
    found = [t for t in admin.list_topics() if t.startswith((f"{namespace}.", f"{app_id}-"))]
    if found:
        admin.delete_topics(found)
    with contextlib.suppress(Exception):  # a group that never committed does not exist
        admin.delete_groups([app_id])
    return found


def drop_namespace(settings: Settings) -> None:
    """Delete every index, template, topic and the consumer group of ``settings.namespace``."""
    es = es_client(settings)
    try:
        drop_indices(es, settings.namespace)
    finally:
        es.close()
    admin = kafka_admin(settings)
    try:
        drop_topics(admin, settings.namespace)
    finally:
        admin.close()
