"""Elasticsearch from the integ-test-zip distribution of Maven Central: one node, or a
cluster of nodes with ``newsflow stack up --es-nodes 2`` (see :mod:`newsflow.stack.es_cluster`).

That distribution has no bundled JDK (we pass ``ES_JAVA_HOME``) and only the modules apm,
transport-netty4, x-pack-core and x-pack-security: no percolator, analysis-common, painless,
ingest or ``GET /`` (rest-root). Security is switched off: the local stack has no auth.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from newsflow.core.settings import Settings
from newsflow.stack import artifacts
from newsflow.stack.base import LocalService
from newsflow.stack.es_cluster import EsCluster, http_port, transport_port
from newsflow.stack.layout import ES_USER, ROOT_RUNTIME, Layout, running_as_root
from newsflow.stack.osuser import chown_tree, ensure_system_user, make_traversable
from newsflow.stack.process import Launch

_COMPLETE = ".unpacked"
# No proxy for 127.0.0.1, whatever http_proxy says.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def settings_yaml(
    settings: Settings,
    layout: Layout,
    cluster: EsCluster | None = None,
    node: int = 1,
    name: str = "elasticsearch",
) -> str:
    """``elasticsearch.yml`` of the local node, or of node ``node`` (named ``name``) of
    ``cluster``; a key whose value is None is left out."""
    values: dict[str, object] = {
        "cluster.name": "newsflow",
        "node.name": "newsflow-local",
        "discovery.type": "single-node",
        "network.host": "127.0.0.1",
        "http.host": "127.0.0.1",
        "http.port": settings.es_port,
        "transport.port": settings.es_transport_port,
        "path.data": str(layout.es_node_home(name) / "data"),
        "path.logs": str(layout.es_node_logs(name)),
        "xpack.security.enabled": False,
        "action.destructive_requires_name": True,
        # A nearly full disk must not turn the indices read-only on a laptop.
        "cluster.routing.allocation.disk.threshold_enabled": False,
        **(cluster.settings(settings, node) if cluster else {}),
    }
    lines = ["# Written by newsflow stack at every start; edit newsflow/stack/elasticsearch.py."]
    lines += [
        f"{key}: {json.dumps(value)}"  # JSON is YAML
        for key, value in values.items()
        if value is not None
    ]
    return "\n".join(lines) + "\n"


def jvm_options(dist_options: str, logs: Path) -> str:
    """The distribution's jvm.options with GC log and crash files put in the logs folder."""
    return dist_options.replace("file=gc.log", f"file={logs}/gc.log").replace(
        "-XX:ErrorFile=hs_err", f"-XX:ErrorFile={logs}/hs_err"
    )


def unpack(zip_path: Path, dest: Path) -> None:
    """Unpack the distribution to ``dest`` once, keeping the files' modes (zipfile drops them)."""
    if (dest / _COMPLETE).is_file():
        return
    work = dest.with_name(dest.name + ".unpacking")
    shutil.rmtree(work, ignore_errors=True)
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, work))
            mode = 0o755 if info.is_dir() else (info.external_attr >> 16) & 0o777 or 0o644
            target.chmod(mode | 0o444)  # readable by the ES user, whoever unpacks
    (top,) = work.iterdir()  # the zip holds one folder, elasticsearch-<version>/
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(top, dest)
    work.rmdir()
    (dest / _COMPLETE).touch()


def cluster_health(port: int, timeout: float = 2.0, nodes: int = 1) -> str | None:
    """The status (green, yellow, red) of the node on ``127.0.0.1:port``; None if silent,
    or if it sees fewer than ``nodes`` nodes (a cluster still forming)."""
    url = f"http://127.0.0.1:{port}/_cluster/health?timeout={int(timeout)}s"
    try:
        with _LOCAL.open(url, timeout=timeout + 1) as response:
            health = json.load(response)
            return str(health["status"]) if health["number_of_nodes"] >= nodes else None
    except urllib.error.HTTPError as exc:  # 408 while the cluster forms, 503 without a master
        return None if exc.code in {408, 503} else f"http {exc.code}"
    except (OSError, ValueError, KeyError):
        return None


class Elasticsearch(LocalService):
    """The local Elasticsearch service: the single node, or node ``node`` of ``cluster``."""

    name = "elasticsearch"
    title = "Elasticsearch"
    start_timeout = 180.0

    def __init__(
        self, settings: Settings, layout: Layout, node: int = 1, cluster: EsCluster | None = None
    ) -> None:
        super().__init__(settings, layout)
        self.node, self.cluster = node, cluster
        if cluster is not None:  # elasticsearch-2: its own name, folders, logs and pid file
            self.name = f"elasticsearch-{node}"
            self.title = f"Elasticsearch node {node}"
        self.home = layout.es_node_home(self.name)
        self.es_logs = layout.es_node_logs(self.name)
        self.config = self.home / "config"

    @property
    def version(self) -> str:
        """The version the settings ask for."""
        return self.settings.es_version

    @property
    def ports(self) -> dict[str, int]:
        """The ports it listens on, by role."""
        return {
            "http": http_port(self.settings, self.node),
            "transport": transport_port(self.settings, self.node),
        }

    def fetch(self, progress: bool = True) -> list[Path]:
        """Download and verify the pinned zip."""
        zips = artifacts.read_lock("elasticsearch", self.version)
        return artifacts.fetch(zips, self.layout.downloads, progress)

    def healthy(self) -> bool:
        """The cluster, as this node sees it, is at least yellow (a node of a cluster answers
        only once it has joined a master: node 1 with node 2 stopped is healthy)."""
        return cluster_health(self.ports["http"]) in {"green", "yellow"}

    def settled(self) -> bool:
        """A cluster has every node and is green: every replica allocated (what starting a
        node waits for; a single node: healthy is enough)."""
        if self.cluster is None:
            return True
        return cluster_health(self.ports["http"], nodes=self.cluster.nodes) == "green"

    def prepare(self, java_home: Path) -> Launch:
        """Unpack, write the configuration, hand the tree to the ES user, say how to run."""
        dist = self.layout.es_dist(self.version)
        dist.parent.mkdir(parents=True, exist_ok=True)
        (zip_path,) = self.fetch()
        unpack(zip_path, dist)
        for folder in (self.config, self.home / "data", self.es_logs):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(dist / "config", self.config, dirs_exist_ok=True)
        yml = settings_yaml(self.settings, self.layout, self.cluster, self.node, self.name)
        (self.config / "elasticsearch.yml").write_text(yml)
        options = jvm_options((dist / "config" / "jvm.options").read_text(), self.es_logs)
        (self.config / "jvm.options").write_text(options)
        user = self._hand_over() if running_as_root() else None
        heap = self.settings.es_heap
        env = {
            "ES_JAVA_HOME": str(java_home),
            "ES_PATH_CONF": str(self.config),
            "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
        }
        argv = [str(dist / "bin" / "elasticsearch")]
        # stdout is ES's console log; its own files are in logs/<name>/.
        log = self.logs[0]
        return Launch(argv=argv, cwd=self.es_logs, env=env, log=log, user=user)

    def _hand_over(self) -> str:
        """As root: the ES user owns config, data and logs; every parent is traversable."""
        uid, gid = ensure_system_user(ES_USER)
        chown_tree(self.config, uid, gid)  # rewritten by us at every start
        for folder in (self.home, self.es_logs):
            if folder.stat().st_uid != uid:  # first start (walks data/ only then)
                chown_tree(folder, uid, gid)
        make_traversable(self.es_logs, stop=ROOT_RUNTIME.parent)
        make_traversable(self.layout.es_dist(self.version), stop=ROOT_RUNTIME.parent)
        link = self.layout.logs / self.name
        if self.es_logs != link and not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(link, ignore_errors=True)
            link.symlink_to(self.es_logs)
        return ES_USER
