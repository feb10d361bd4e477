"""The configuration of a local Kafka cluster (``stack up --brokers 3``), without starting it."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsflow.core.bootstrap import topic_configs
from newsflow.core.errors import ConfigError, StackError
from newsflow.core.settings import load_settings
from newsflow.stack import services
from newsflow.stack.cluster import KafkaCluster, bootstrap_servers, broker_port
from newsflow.stack.kafka import server_properties
from newsflow.stack.layout import Layout
from tests.unit.test_stack_config import _properties, _settings


def test_each_node_has_its_own_ports_and_all_vote_in_one_static_quorum(tmp_path: Path) -> None:
    settings = _settings(kafka_bootstrap="localhost:19092", kafka_controller_port=19093)
    cluster = KafkaCluster(3, "id")
    props = _properties(server_properties(settings, tmp_path, cluster=cluster, node=2))
    assert props["node.id"] == "2"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19192,CONTROLLER://127.0.0.1:19193"
    assert props["controller.quorum.voters"] == (
        "1@localhost:19093,2@localhost:19193,3@localhost:19293"
    )
    assert "controller.quorum.bootstrap.servers" not in props
    assert bootstrap_servers(settings, 3) == "localhost:19092,localhost:19192,localhost:19292"


def test_a_cluster_of_three_replicates_everything_three_times_and_wants_two_in_sync(
    tmp_path: Path,
) -> None:
    props = _properties(server_properties(_settings(), tmp_path, cluster=KafkaCluster(3, "id")))
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
    ):
        assert props[key] == "3", key
    assert props["min.insync.replicas"] == "2"
    assert props["transaction.state.log.min.isr"] == "2"


def test_listed_bootstrap_servers_give_the_ports_of_the_nodes() -> None:
    settings = _settings(kafka_bootstrap="localhost:1000,localhost:2000")
    assert [broker_port(settings, n) for n in (1, 2, 3)] == [1000, 2000, 1200]


def test_topics_wait_for_all_replicas_but_one() -> None:
    assert topic_configs(_settings()) == {}
    assert topic_configs(_settings(replication_factor=3)) == {"min.insync.replicas": "2"}
    assert _settings(replication_factor=2).insync_replicas == 1
    with pytest.raises(ConfigError, match="NEWSFLOW_MIN_INSYNC_REPLICAS"):
        load_settings(replication_factor=3, min_insync_replicas=4)


def test_the_recorded_cluster_names_every_broker(tmp_path: Path) -> None:
    settings = _settings(home=tmp_path, kafka_bootstrap="localhost:1", es_url="http://localhost:2")
    KafkaCluster(3, "id").save(Layout.of(settings).kafka_cluster)
    rows = services.status(settings)
    assert [row.name for row in rows] == ["kafka-1", "kafka-2", "kafka-3", "elasticsearch"]
    assert rows[1].log == tmp_path / "stack" / "logs" / "kafka-2.log"
    assert [svc.name for svc in services.members(settings, "kafka-2")] == ["kafka-2"]
    with pytest.raises(StackError, match="no Kafka broker 'kafka-4'"):
        services.members(settings, "kafka-4")
    with pytest.raises(StackError, match="a cluster of 3 brokers; a cluster of 5"):
        services.members(settings.model_copy(update={"kafka_brokers": 5}), "kafka")
