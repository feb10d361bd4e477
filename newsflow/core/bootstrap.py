"""``newsflow bootstrap``: create the namespace's topics and install its index templates.

Idempotent: existing topics and templates are left as they are (templates are updated).
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

import click
from elasticsearch import BadRequestError

from newsflow.core.clients import es_client, kafka_admin
from newsflow.core.errors import StackError
from newsflow.core.names import Names
from newsflow.core.paths import DEPLOY
from newsflow.core.settings import Settings, load_settings

WAIT_OPTION_HELP = "Wait (with capped backoff) while Kafka or Elasticsearch cannot be reached."


# Template file -> index name property of Names.
TEMPLATES = {
    "articles": "articles_index",
    "deadletter": "deadletter_index",
    "alerts": "alerts_index",
    "stories": "stories_index",
    "subscriptions": "subscriptions_index",
}


def template_body(name: str, index: str, es_major: int = 8) -> dict[str, Any]:
    """The composable index template ``deploy/elasticsearch/v<major>/<name>.json`` for ``index``."""
    path = DEPLOY / "elasticsearch" / f"v{es_major}" / f"{name}.json"
    body: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    body.pop("_comment", None)
    body["index_patterns"] = [index]
    return body


def ensure_topics(settings: Settings, names: Names) -> list[str]:
    """Create the missing topics of the namespace; returns the names created."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = kafka_admin(settings)
    try:
        existing = set(admin.list_topics())
        wanted = names.topic_partitions(settings.partitions)
        rf, configs = settings.replication_factor, topic_configs(settings)
        missing = [t for t in wanted if t not in existing]
        if missing:
            new = [NewTopic(t, wanted[t], rf, topic_configs=configs) for t in missing]
            # Another process may have created them in between.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
        _wait_for_topics(admin, names.topics)
        return missing
    finally:
        admin.close()


def topic_configs(settings: Settings) -> dict[str, str]:
    """Configs of new replicated topics: acks=all then waits for ``min.insync.replicas`` copies.

    Faust's changelogs get the broker's default instead (``newsflow stack up --brokers 3``
    sets the same value broker-wide; docs/OPERATIONS.md says what a cluster must set).
    """
    if settings.replication_factor == 1:
        return {}  # the broker's default (1) already
    return {"min.insync.replicas": str(settings.insync_replicas)}


def _wait_for_topics(admin: Any, topics: tuple[str, ...], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if set(topics) <= set(admin.list_topics()):
            return
        time.sleep(0.2)
    raise StackError(f"topics not visible after {timeout:.0f}s: {', '.join(topics)}")


def ensure_templates(settings: Settings, names: Names) -> list[str]:
    """Install (or update) the index templates of the namespace; returns their names."""
    es = es_client(settings)
    installed = []
    try:
        for name, attr in TEMPLATES.items():
            if not (DEPLOY / "elasticsearch" / "v8" / f"{name}.json").exists():
                continue
            template = f"{names.namespace}-{name}"
            index = getattr(names, attr)
            body = template_body(name, index)
            replicas = settings.index_replicas
            if replicas is not None:  # a cluster: one copy per node (stack up --es-nodes 2)
                body["template"]["settings"]["number_of_replicas"] = replicas
            es.indices.put_index_template(name=template, **body)
            installed.append(template)
            # Create the index now, so counts and searches work before the first document.
            if not es.indices.exists(index=index):
                try:
                    es.indices.create(index=index)
                except BadRequestError as exc:
                    if exc.error != "resource_already_exists_exception":
                        raise
            else:
                _add_new_fields(es, index, body["template"]["mappings"])
                if replicas is not None:  # a dynamic setting: existing indices follow
                    es.indices.put_settings(index=index, settings={"number_of_replicas": replicas})
    finally:
        es.close()
    return installed


def _add_new_fields(es: Any, index: str, mappings: dict[str, Any]) -> None:
    """Map on an existing index the fields its template gained since (strict mappings
    refuse documents with unmapped fields; adding a field never conflicts)."""
    response = es.indices.get_mapping(index=index)
    current = next(iter(response.values()))["mappings"].get("properties", {})
    new = {k: v for k, v in mappings.get("properties", {}).items() if k not in current}
    if new:
        es.indices.put_mapping(index=index, properties=new)


def bootstrap_namespace(settings: Settings) -> None:
    """Topics and templates of ``settings.namespace``, ready for producers and workers."""
    names = Names(settings.namespace)
    ensure_topics(settings, names)
    ensure_templates(settings, names)


@click.command()
@click.option("--wait", is_flag=True, help=WAIT_OPTION_HELP)
def bootstrap(wait: bool) -> None:
    """Create the namespace's Kafka topics and install its Elasticsearch index templates."""
    from newsflow.core.waiting import maybe_waiting

    settings = load_settings()
    names = Names(settings.namespace)
    created = maybe_waiting(wait, lambda: ensure_topics(settings, names), "bootstrap")
    templates = maybe_waiting(wait, lambda: ensure_templates(settings, names), "bootstrap")
    topics = ", ".join(names.topics)
    click.echo(f"topics: {topics} ({len(created)} created, {settings.partitions} partitions)")
    click.echo(f"index templates: {', '.join(templates)}")
