"""Elasticsearch, single node, from the integ-test-zip distribution of Maven Central.

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
from newsflow.stack.layout import ES_USER, ROOT_RUNTIME, Layout, running_as_root
from newsflow.stack.osuser import chown_tree, ensure_system_user, make_traversable
from newsflow.stack.process import Launch

_COMPLETE = ".unpacked"
# No proxy for 127.0.0.1, whatever http_proxy says.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def settings_yaml(settings: Settings, layout: Layout) -> str:
    """``elasticsearch.yml`` of the local node."""
    values: dict[str, object] = {
        "cluster.name": "newsflow",
        "node.name": "newsflow-local",
        "discovery.type": "single-node",
        "network.host": "127.0.0.1",
        "http.host": "127.0.0.1",
        "http.port": settings.es_port,
        "transport.port": settings.es_transport_port,
        "path.data": str(layout.es_home / "data"),
        "path.logs": str(layout.es_logs),
        "xpack.security.enabled": False,
        "action.destructive_requires_name": True,
        # A nearly full disk must not turn the indices read-only on a laptop.
        "cluster.routing.allocation.disk.threshold_enabled": False,
    }
    lines = ["# Written by newsflow stack at every start; edit newsflow/stack/elasticsearch.py."]
    lines += [f"{key}: {json.dumps(value)}" for key, value in values.items()]  # JSON is YAML
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


def cluster_health(port: int, timeout: float = 2.0) -> str | None:
    """The status (green, yellow, red) of the node on ``127.0.0.1:port``; None if silent."""
    url = f"http://127.0.0.1:{port}/_cluster/health?timeout={int(timeout)}s"
    try:
        with _LOCAL.open(url, timeout=timeout + 1) as response:
            return str(json.load(response)["status"])
    except urllib.error.HTTPError as exc:  # 408 while the cluster forms, 503 without a master
        return None if exc.code in {408, 503} else f"http {exc.code}"
    except (OSError, ValueError, KeyError):
        return None


class Elasticsearch(LocalService):
    """The local Elasticsearch service."""

    name = "elasticsearch"
    title = "Elasticsearch"
    start_timeout = 180.0

    def __init__(self, settings: Settings, layout: Layout) -> None:
        super().__init__(settings, layout)
        self.config = layout.es_home / "config"

    @property
    def version(self) -> str:
        """The version the settings ask for."""
        return self.settings.es_version

    @property
    def ports(self) -> dict[str, int]:
        """The ports it listens on, by role."""
        return {"http": self.settings.es_port, "transport": self.settings.es_transport_port}

    def fetch(self, progress: bool = True) -> list[Path]:
        """Download and verify the pinned zip."""
        zips = artifacts.read_lock("elasticsearch", self.version)
        return artifacts.fetch(zips, self.layout.downloads, progress)

    def healthy(self) -> bool:
        """The cluster is at least yellow."""
        return cluster_health(self.settings.es_port) in {"green", "yellow"}

    def prepare(self, java_home: Path) -> Launch:
        """Unpack, write the configuration, hand the tree to the ES user, say how to run."""
        dist = self.layout.es_dist(self.version)
        dist.parent.mkdir(parents=True, exist_ok=True)
        (zip_path,) = self.fetch()
        unpack(zip_path, dist)
        for folder in (self.config, self.layout.es_home / "data", self.layout.es_logs):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(dist / "config", self.config, dirs_exist_ok=True)
        (self.config / "elasticsearch.yml").write_text(settings_yaml(self.settings, self.layout))
        options = jvm_options((dist / "config" / "jvm.options").read_text(), self.layout.es_logs)
        (self.config / "jvm.options").write_text(options)
        user = self._hand_over() if running_as_root() else None
        heap = self.settings.es_heap
        env = {
            "ES_JAVA_HOME": str(java_home),
            "ES_PATH_CONF": str(self.config),
            "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
        }
        argv = [str(dist / "bin" / "elasticsearch")]
        # stdout is ES's console log; its own files are in logs/elasticsearch/.
        log = self.logs[0]
        return Launch(argv=argv, cwd=self.layout.es_logs, env=env, log=log, user=user)

    def _hand_over(self) -> str:
        """As root: the ES user owns config, data and logs; every parent is traversable."""
        uid, gid = ensure_system_user(ES_USER)
        chown_tree(self.config, uid, gid)  # rewritten by us at every start
        for folder in (self.layout.es_home, self.layout.es_logs):
            if folder.stat().st_uid != uid:  # first start (walks data/ only then)
                chown_tree(folder, uid, gid)
        make_traversable(self.layout.es_logs, stop=ROOT_RUNTIME.parent)
        make_traversable(self.layout.es_dist(self.version), stop=ROOT_RUNTIME.parent)
        link = self.layout.logs / "elasticsearch"
        if self.layout.es_logs != link and not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(link, ignore_errors=True)
            link.symlink_to(self.layout.es_logs)
        return ES_USER
