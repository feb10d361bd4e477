"""Apache Kafka in KRaft mode, from the jars of Maven Central.

One combined broker+controller by default; ``newsflow stack up --brokers 3`` makes a cluster
of combined nodes instead (see :mod:`newsflow.stack.cluster`).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from pathlib import Path

from newsflow.core.errors import StackError
from newsflow.core.settings import Settings
from newsflow.stack import artifacts
from newsflow.stack.base import LocalService
from newsflow.stack.cluster import KafkaCluster, broker_port, controller_port
from newsflow.stack.kafka_probe import probe
from newsflow.stack.layout import Layout
from newsflow.stack.process import Launch

# The broker and the storage tool fail at run time, not at start, without any of these.
REQUIRED_ARTIFACTS = frozenset(
    {
        "kafka_2.13", "kafka-server", "kafka-server-common", "kafka-metadata", "kafka-raft",
        "kafka-storage", "kafka-storage-api", "kafka-clients", "kafka-group-coordinator",
        "kafka-group-coordinator-api", "kafka-transaction-coordinator", "kafka-share-coordinator",
        "kafka-coordinator-common", "scala-library", "scala-reflect", "scala-logging_2.13",
        "jackson-databind", "argparse4j", "log4j-api", "log4j-core", "log4j-slf4j-impl",
        "slf4j-api", "metrics-core",
    }
)  # fmt: skip
NODE_ID = 1
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-Djava.awt.headless=true",
)


def locked_artifacts(version: str) -> list[artifacts.Artifact]:
    """The pinned jars of Kafka ``version``, checked for the ones the broker cannot run without."""
    jars = artifacts.read_lock("kafka", version)
    missing = REQUIRED_ARTIFACTS - {jar.artifact for jar in jars}
    if missing:
        raise StackError(f"the Kafka {version} lock file lacks {', '.join(sorted(missing))}")
    return jars


def server_properties(
    settings: Settings,
    data_dir: Path,
    extra: dict[str, object] | None = None,
    cluster: KafkaCluster | None = None,
    node: int = NODE_ID,
) -> str:
    """The broker+controller configuration of the local single node, or of ``node`` of
    ``cluster``.

    ``extra`` adds or replaces keys (the secured broker of the tests: listeners, TLS, SASL);
    a key whose value is None is left out.
    """
    port, controller = settings.kafka_port, settings.kafka_controller_port
    values = {
        "process.roles": "broker,controller",
        "node.id": NODE_ID,
        "controller.quorum.bootstrap.servers": f"localhost:{controller}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
        "advertised.listeners": f"PLAINTEXT://localhost:{port},CONTROLLER://localhost:{controller}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": data_dir,
        # Topics are created by newsflow bootstrap, with the partitions it wants.
        "auto.create.topics.enable": "false",
        "num.partitions": settings.partitions,
        "default.replication.factor": 1,
        "offsets.topic.replication.factor": 1,
        "transaction.state.log.replication.factor": 1,
        "transaction.state.log.min.isr": 1,
        "share.coordinator.state.topic.replication.factor": 1,
        "share.coordinator.state.topic.min.isr": 1,
        "group.initial.rebalance.delay.ms": 0,
        **(cluster.properties(settings, node) if cluster else {}),
        **(extra or {}),
    }
    lines = ["# Written by newsflow stack at every start; edit newsflow/stack/kafka.py instead."]
    lines += [f"{key}={value}" for key, value in values.items() if value is not None]
    return "\n".join(lines) + "\n"


def log4j2_properties(log_file: Path) -> str:
    """Kafka's log4j2 configuration: everything to one rolling file in the stack's logs."""
    return f"""\
status = warn
# Keep logging until Kafka has shut down (every event is flushed at once anyway).
shutdownHook = disable
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {log_file}
appender.file.filePattern = {log_file}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
"""


def new_cluster_id() -> str:
    """A random cluster id in Kafka's format (url-safe base64 of 16 bytes, no padding)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka's Uuid.randomUuid() avoids these too
            return text


def classpath_args(jars: list[Path]) -> str:
    """A java @argfile with the classpath (keeps the command line short and readable)."""
    return '-cp\n"' + ":".join(str(jar) for jar in jars) + '"\n'


class Kafka(LocalService):
    """The local Kafka service: the single node, or node ``node`` of ``cluster``."""

    name = "kafka"
    title = "Kafka"
    start_timeout = 90.0

    def __init__(
        self,
        settings: Settings,
        layout: Layout,
        node: int = NODE_ID,
        cluster: KafkaCluster | None = None,
    ) -> None:
        super().__init__(settings, layout)
        self.node, self.cluster = node, cluster
        if cluster is not None:  # kafka-2: its own name, folder, logs and pid file
            self.name = f"kafka-{node}"
            self.title = f"Kafka broker {node}"
        self.dir = layout.stack / self.name
        self.data = self.dir / "data"

    @property
    def version(self) -> str:
        """The version the settings ask for."""
        return self.settings.kafka_version

    @property
    def ports(self) -> dict[str, int]:
        """The ports it listens on, by role."""
        return {
            "broker": broker_port(self.settings, self.node),
            "controller": controller_port(self.settings, self.node),
        }

    def fetch(self, progress: bool = True) -> list[Path]:
        """Download and verify the pinned jars."""
        return artifacts.fetch(locked_artifacts(self.version), self.layout.downloads, progress)

    def healthy(self) -> bool:
        """The broker answers a Metadata request with itself (registered, unfenced) among the
        live brokers, and a controller."""
        info = probe("127.0.0.1", self.ports["broker"])
        return info is not None and info.ready and self.node in {b[0] for b in info.brokers}

    def prepare(self, java_home: Path) -> Launch:
        """Write the configuration, format the storage the first time, say how to run."""
        jars = self.fetch()
        self.dir.mkdir(parents=True, exist_ok=True)
        extra = self.extra_properties()
        properties = server_properties(self.settings, self.data, extra, self.cluster, self.node)
        (self.dir / "server.properties").write_text(properties)
        log4j = self.dir / "log4j2.properties"
        log4j.write_text(log4j2_properties(self.layout.log_file(self.name)))
        (self.dir / "jvm.args").write_text(classpath_args(jars))
        java = [str(java_home / "bin" / "java"), f"@{self.dir / 'jvm.args'}"]
        if not (self.data / "meta.properties").is_file():
            self._format(java)
        heap = self.settings.kafka_heap
        argv = [
            *java[:1], f"-Xms{heap}", f"-Xmx{heap}", *JVM_FLAGS,
            f"-Dlog4j2.configurationFile={log4j}", *java[1:],
            "kafka.Kafka", str(self.dir / "server.properties"),
        ]  # fmt: skip
        return Launch(argv=argv, cwd=self.dir, env={"JAVA_HOME": str(java_home)}, log=self.out)

    @property
    def logs(self) -> tuple[Path, ...]:
        """Where to look when it does not start."""
        return (*super().logs, self.out)

    @property
    def out(self) -> Path:
        """Where the JVM's own stdout/stderr go (crashes before logging starts)."""
        return self.layout.logs / f"{self.name}.out"

    def extra_properties(self) -> dict[str, object]:
        """Keys a variant of the broker adds to ``server.properties`` (none here)."""
        return {}

    def format_options(self) -> list[str]:
        """Options a variant adds to ``kafka-storage format`` (``--add-scram`` users)."""
        return []

    def _format(self, java: list[str]) -> None:
        shutil.rmtree(self.data, ignore_errors=True)  # no meta.properties: never a usable log dir
        # The single node makes its own quorum; the nodes of a cluster share the id and list
        # the voters in their configuration (a static quorum).
        if self.cluster is None:
            quorum = ["--standalone", "-t", new_cluster_id()]
        else:
            quorum = ["-t", self.cluster.cluster_id]
        command = [
            *java, "kafka.tools.StorageTool", "format", *quorum,
            "-c", str(self.dir / "server.properties"), *self.format_options(),
        ]  # fmt: skip
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with self.out.open("ab") as out:
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=120)
        if done.returncode != 0:
            code = done.returncode
            raise StackError(f"formatting Kafka storage failed (exit {code}); see {self.out}")
