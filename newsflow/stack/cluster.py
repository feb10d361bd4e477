"""The local Kafka as a cluster: ``newsflow stack up --brokers 3``.

Every node is a combined broker+controller (``process.roles=broker,controller``) and the
controllers form a static quorum (``controller.quorum.voters``) of all nodes. Why combined:
three separate controllers would be three more JVMs on a development machine, and a cluster
of three combined nodes still keeps a quorum (two of three) with any one node down, which is
the fault the tests make. A killed node is then a broker and a voter lost at once, the harder
case for the clients (leader and controller fail over together).

Ports: node ``n`` listens for clients on the ``n``-th server of NEWSFLOW_KAFKA_BOOTSTRAP when
the list is that long, else on its first port + 100·(n−1); its controller on
NEWSFLOW_KAFKA_CONTROLLER_PORT + 100·(n−1). With the defaults: 9092/9093, 9192/9193, 9292/9293.

The size and the cluster id are recorded in ``stack/kafka-cluster.json`` when the cluster is
first formatted, so that ``newsflow stack status|stop|start`` know it without being told.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsflow.core.settings import Settings, default_insync_replicas
from newsflow.stack.process import Record

PORT_STEP = 100
MAX_REPLICAS = 3  # replication factor of the internal topics, whatever the size


def broker_port(settings: Settings, node: int) -> int:
    """The client port of ``node`` (1-based)."""
    servers = [s.strip() for s in settings.kafka_bootstrap.split(",") if s.strip()]
    if len(servers) >= node and ":" in servers[node - 1]:
        return int(servers[node - 1].rsplit(":", 1)[1])
    return settings.kafka_port + PORT_STEP * (node - 1)


def controller_port(settings: Settings, node: int) -> int:
    """The KRaft controller port of ``node`` (1-based)."""
    return settings.kafka_controller_port + PORT_STEP * (node - 1)


def bootstrap_servers(settings: Settings, brokers: int) -> str:
    """NEWSFLOW_KAFKA_BOOTSTRAP for clients of the cluster: every broker, so that a client
    starting while one is down still finds the others."""
    return ",".join(f"localhost:{broker_port(settings, n)}" for n in range(1, brokers + 1))


@dataclass(frozen=True)
class KafkaCluster(Record):
    """A local cluster of ``brokers`` combined nodes sharing ``cluster_id``."""

    brokers: int
    cluster_id: str

    @property
    def replicas(self) -> int:
        """Replication factor of the broker's own topics and of topics created without one."""
        return min(MAX_REPLICAS, self.brokers)

    def insync(self, settings: Settings) -> int:
        """The broker-wide ``min.insync.replicas`` (Faust's changelogs get this one)."""
        wanted = settings.min_insync_replicas or default_insync_replicas(self.replicas)
        return min(wanted, self.replicas)

    def properties(self, settings: Settings, node: int) -> dict[str, object]:
        """What ``server.properties`` of ``node`` changes from the single node's."""
        port, controller = broker_port(settings, node), controller_port(settings, node)
        voters = ",".join(
            f"{n}@localhost:{controller_port(settings, n)}" for n in range(1, self.brokers + 1)
        )
        replicas, insync = self.replicas, self.insync(settings)
        return {
            "node.id": node,
            "controller.quorum.bootstrap.servers": None,  # a static quorum instead
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"PLAINTEXT://localhost:{port},"
            f"CONTROLLER://localhost:{controller}",
            "default.replication.factor": replicas,
            "min.insync.replicas": insync,
            "offsets.topic.replication.factor": replicas,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": insync,
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": insync,
        }
