"""The local Elasticsearch as a cluster: ``newsflow stack up --es-nodes 2``.

Node 1 is the only master-eligible node (and a data node); nodes 2.. are data nodes only.
Why not every node master-eligible: with two, Elasticsearch keeps one of them out of the
voting configuration, so which node's loss stops the cluster would be up to an election.
With node 1 the master, it is known: stopping ``elasticsearch-2`` loses a data node (the
cluster stays up, yellow: node 1's copies serve and take every write), stopping
``elasticsearch-1`` stops the cluster (as the single node's outage). Surviving the master's
loss takes three master-eligible nodes: three JVMs, more than a development machine wants.

Ports: node ``n`` listens for HTTP on the port of NEWSFLOW_ES_URL + (n−1) and for the
transport on NEWSFLOW_ES_TRANSPORT_PORT + (n−1): 9200/9300, 9201/9301 with the defaults.
Clients keep NEWSFLOW_ES_URL, node 1's (docs/OPERATIONS.md says why).

The size is recorded in ``stack/es-cluster.json`` at the first start, so that
``newsflow stack status|stop|start`` know it without being told.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsflow.core.settings import Settings
from newsflow.stack.process import Record

MASTER = 1  # the node that is master-eligible


def http_port(settings: Settings, node: int) -> int:
    """The HTTP port of ``node`` (1-based)."""
    return settings.es_port + node - 1


def transport_port(settings: Settings, node: int) -> int:
    """The transport port of ``node`` (1-based)."""
    return settings.es_transport_port + node - 1


def node_name(node: int) -> str:
    """``node.name`` in the cluster (what ``_cat/nodes`` shows)."""
    return f"newsflow-{node}"


@dataclass(frozen=True)
class EsCluster(Record):
    """A local Elasticsearch of ``nodes`` nodes."""

    nodes: int

    def settings(self, settings: Settings, node: int) -> dict[str, object]:
        """What ``elasticsearch.yml`` of ``node`` changes from the single node's."""
        seeds = [f"127.0.0.1:{transport_port(settings, n)}" for n in range(1, self.nodes + 1)]
        values: dict[str, object] = {
            "node.name": node_name(node),
            "discovery.type": None,  # a cluster: discovery by seed hosts instead
            "discovery.seed_hosts": seeds,
            "http.port": http_port(settings, node),
            "transport.port": transport_port(settings, node),
        }
        if node == MASTER:
            # Read only when the cluster forms the first time; ignored afterwards.
            values["cluster.initial_master_nodes"] = [node_name(MASTER)]
        else:
            values["node.roles"] = ["data"]
        return values
