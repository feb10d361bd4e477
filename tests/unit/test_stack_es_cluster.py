"""The configuration of a local Elasticsearch cluster (``stack up --es-nodes 2``), not started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsflow.core.errors import StackError
from newsflow.stack import services
from newsflow.stack.elasticsearch import Elasticsearch, settings_yaml
from newsflow.stack.es_cluster import EsCluster
from newsflow.stack.layout import Layout
from tests.unit.test_stack_config import _settings


def _yaml(text: str) -> dict[str, object]:
    pairs = (line.split(": ", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: json.loads(value) for key, value in pairs}


def test_node_one_is_the_master_and_node_two_a_data_node_on_the_next_ports(
    tmp_path: Path,
) -> None:
    settings = _settings(home=tmp_path, es_url="http://localhost:19200", es_transport_port=19300)
    layout, cluster = Layout.of(settings, as_root=False), EsCluster(2)
    first = _yaml(settings_yaml(settings, layout, cluster, 1, "elasticsearch-1"))
    second = _yaml(settings_yaml(settings, layout, cluster, 2, "elasticsearch-2"))
    for node in (first, second):
        assert "discovery.type" not in node
        assert node["discovery.seed_hosts"] == ["127.0.0.1:19300", "127.0.0.1:19301"]
        assert node["cluster.name"] == "newsflow"
    assert (first["http.port"], first["transport.port"]) == (19200, 19300)
    assert (second["http.port"], second["transport.port"]) == (19201, 19301)
    assert first["cluster.initial_master_nodes"] == ["newsflow-1"]
    assert "node.roles" not in first  # every role, master included
    assert second["node.roles"] == ["data"]
    assert "cluster.initial_master_nodes" not in second
    assert second["path.data"] == f"{tmp_path}/stack/elasticsearch-2/data"
    assert second["path.logs"] == f"{tmp_path}/stack/logs/elasticsearch-2"


def test_the_single_node_keeps_its_name_folders_and_ports(tmp_path: Path) -> None:
    settings = _settings(home=tmp_path, es_url="http://localhost:19200", es_transport_port=19300)
    (node,) = services.members(settings, "elasticsearch")
    assert isinstance(node, Elasticsearch) and node.cluster is None
    assert node.name == "elasticsearch"
    assert node.ports == {"http": 19200, "transport": 19300}
    assert node.home == Layout.of(settings).es_home


def test_the_recorded_cluster_names_every_node(tmp_path: Path) -> None:
    settings = _settings(home=tmp_path, kafka_bootstrap="localhost:1", es_url="http://localhost:2")
    EsCluster(2).save(Layout.of(settings).es_cluster)
    rows = services.status(settings)
    assert [row.name for row in rows] == ["kafka", "elasticsearch-1", "elasticsearch-2"]
    assert rows[2].ports == {"http": 3, "transport": 9301}
    assert rows[2].log == tmp_path / "stack" / "logs" / "elasticsearch-2.log"
    assert [svc.name for svc in services.members(settings, "elasticsearch-2")] == [
        "elasticsearch-2"
    ]
    with pytest.raises(StackError, match="no Elasticsearch node 'elasticsearch-3'"):
        services.members(settings, "elasticsearch-3")
    with pytest.raises(StackError, match="a cluster of 2 nodes; a cluster of 3"):
        services.members(settings.model_copy(update={"es_nodes": 3}), "elasticsearch")


def test_a_single_node_has_no_numbered_nodes(tmp_path: Path) -> None:
    settings = _settings(home=tmp_path)
    with pytest.raises(StackError, match=r"has a single node \(elasticsearch\)"):
        services.members(settings, "elasticsearch-2")


def test_index_replicas_default_to_one_per_other_node() -> None:
    assert _settings().index_replicas is None  # the templates' own 0: the single node as it was
    assert _settings(es_nodes=1).index_replicas == 0
    assert _settings(es_nodes=2).index_replicas == 1
    assert _settings(es_nodes=2, es_replicas=0).index_replicas == 0
