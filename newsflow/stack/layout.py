"""Where the local stack keeps its downloads, configuration, data, logs and pid files.

Everything lives under ``settings.home`` (``~/.cache/newsflow`` by default)::

    downloads/                      jars and the ES zip, in Maven's repository layout
    stack/logs/                     kafka.log, kafka.out, elasticsearch.log, elasticsearch/
    stack/run/                      <service>.json: pid, ports, version of what runs
    stack/kafka/                    server.properties, log4j2.properties, jvm.args, data/
    stack/kafka-1/ .. kafka-N/      the same, per node, for ``stack up --brokers N``
    stack/kafka-cluster.json        that cluster's size and id
    stack/elasticsearch/            ES config and data (under /var/lib/newsflow as root, below)
    stack/elasticsearch-1/ ..       the same, per node, for ``stack up --es-nodes 2``
    stack/es-cluster.json           that cluster's size

Elasticsearch refuses to run as root. When we are root it runs as the system user
``newsflow-es``, which cannot traverse ``/root``; its tree (unpacked distribution, config, data,
logs) then lives under ``/var/lib/newsflow`` followed by the home path, so that every parent is
world-traversable and two homes never share a tree. ``stack/logs/elasticsearch`` is then a link.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from newsflow.core.settings import Settings

ES_USER = "newsflow-es"
ROOT_RUNTIME = Path("/var/lib/newsflow")


def running_as_root() -> bool:
    """True when this process is root (Elasticsearch then needs its own user)."""
    return os.geteuid() == 0


@dataclass(frozen=True)
class Layout:
    """The directories of one local stack, derived from ``settings.home``."""

    home: Path
    es_root: Path  # home itself, or its mirror under /var/lib/newsflow when root

    @classmethod
    def of(cls, settings: Settings, as_root: bool | None = None) -> Layout:
        """The layout for these settings (``as_root`` defaults to the current euid)."""
        home = settings.home.expanduser().absolute()
        root = running_as_root() if as_root is None else as_root
        es_root = ROOT_RUNTIME / home.relative_to(home.anchor) if root else home
        return cls(home=home, es_root=es_root)

    @property
    def downloads(self) -> Path:
        """The download cache."""
        return self.home / "downloads"

    @property
    def stack(self) -> Path:
        """Configuration, data, logs and pid files of the running stack."""
        return self.home / "stack"

    @property
    def logs(self) -> Path:
        """The one folder with every log."""
        return self.stack / "logs"

    @property
    def run(self) -> Path:
        """Pid files and the lock that serializes starts and stops."""
        return self.stack / "run"

    @property
    def kafka(self) -> Path:
        """Kafka's configuration and data."""
        return self.stack / "kafka"

    @property
    def kafka_cluster(self) -> Path:
        """The size and id of a multi-broker Kafka (absent: the single node)."""
        return self.stack / "kafka-cluster.json"

    def es_dist(self, version: str) -> Path:
        """The unpacked Elasticsearch distribution (read-only for ES)."""
        return self.es_root / f"elasticsearch-{version}"

    @property
    def es_home(self) -> Path:
        """ES config and data, owned by the user ES runs as."""
        return self.es_node_home("elasticsearch")

    @property
    def es_logs(self) -> Path:
        """ES's own log files (``path.logs``)."""
        return self.es_node_logs("elasticsearch")

    def es_node_home(self, name: str) -> Path:
        """Config and data of ES node ``name`` (``elasticsearch``, ``elasticsearch-2``)."""
        return self.es_root / "stack" / name

    def es_node_logs(self, name: str) -> Path:
        """``path.logs`` of ES node ``name``."""
        return self.es_root / "stack" / "logs" / name

    @property
    def es_cluster(self) -> Path:
        """The size of a multi-node Elasticsearch (absent: the single node)."""
        return self.stack / "es-cluster.json"

    def log_file(self, service: str) -> Path:
        """The main log of a service (what ``status`` and error messages point at)."""
        return self.logs / f"{service}.log"

    def state_file(self, service: str) -> Path:
        """The pid file of a service: JSON with pid, start time, ports and version."""
        return self.run / f"{service}.json"
