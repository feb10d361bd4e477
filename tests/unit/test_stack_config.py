"""Rendering of Kafka's and Elasticsearch's configuration, and where the stack lives on disk."""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

from newsflow.core.settings import Settings
from newsflow.stack.elasticsearch import jvm_options, settings_yaml, unpack
from newsflow.stack.kafka import (
    classpath_args,
    log4j2_properties,
    new_cluster_id,
    server_properties,
)
from newsflow.stack.layout import Layout


def _settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_kafka_is_one_kraft_node_on_the_configured_ports(tmp_path: Path) -> None:
    settings = _settings(
        kafka_bootstrap="localhost:19092", kafka_controller_port=19093, partitions=6
    )
    props = _properties(server_properties(settings, tmp_path / "data"))
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"].startswith("PLAINTEXT://localhost:19092,")
    assert props["controller.quorum.bootstrap.servers"] == "localhost:19093"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["num.partitions"] == "6"


def test_kafka_creates_no_topic_by_itself_and_suits_a_single_broker(tmp_path: Path) -> None:
    props = _properties(server_properties(_settings(), tmp_path))
    assert props["auto.create.topics.enable"] == "false"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
    ):
        assert props[key] == "1", key
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_kafka_logs_to_a_file_in_the_logs_folder(tmp_path: Path) -> None:
    text = log4j2_properties(tmp_path / "kafka.log")
    assert f"appender.file.fileName = {tmp_path / 'kafka.log'}" in text
    assert "rootLogger.appenderRef.file.ref = file" in text


def test_cluster_ids_look_like_kafkas() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", cid) for cid in ids)


def test_the_classpath_goes_into_a_java_argfile(tmp_path: Path) -> None:
    text = classpath_args([tmp_path / "a.jar", tmp_path / "b.jar"])
    assert text == f'-cp\n"{tmp_path}/a.jar:{tmp_path}/b.jar"\n'


def test_elasticsearch_is_a_local_single_node_without_auth(tmp_path: Path) -> None:
    settings = _settings(home=tmp_path, es_url="http://localhost:19200", es_transport_port=19300)
    layout = Layout.of(settings, as_root=False)
    text = settings_yaml(settings, layout)
    assert 'discovery.type: "single-node"' in text
    assert 'network.host: "127.0.0.1"' in text
    assert "http.port: 19200" in text
    assert "transport.port: 19300" in text
    assert "xpack.security.enabled: false" in text
    assert "action.destructive_requires_name: true" in text
    assert "cluster.routing.allocation.disk.threshold_enabled: false" in text
    assert f'path.data: "{tmp_path}/stack/elasticsearch/data"' in text
    assert f'path.logs: "{tmp_path}/stack/logs/elasticsearch"' in text
    assert "xpack.ml" not in text  # this distribution has no ML module: setting it is fatal


def test_gc_and_crash_logs_go_to_the_logs_folder() -> None:
    dist = "-XX:ErrorFile=hs_err_pid%p.log\n-Xlog:gc*:file=gc.log:utctime\n-XX:+UseG1GC\n"
    text = jvm_options(dist, Path("/l"))
    assert (
        text
        == "-XX:ErrorFile=/l/hs_err_pid%p.log\n-Xlog:gc*:file=/l/gc.log:utctime\n-XX:+UseG1GC\n"
    )


def test_as_root_elasticsearch_lives_where_its_own_user_can_reach(tmp_path: Path) -> None:
    settings = _settings(home=tmp_path / "home")
    user, root = Layout.of(settings, as_root=False), Layout.of(settings, as_root=True)
    assert user.es_home == tmp_path / "home/stack/elasticsearch"
    assert user.es_logs == user.logs / "elasticsearch"
    assert (
        root.es_home
        == Path("/var/lib/newsflow") / str(tmp_path).lstrip("/") / "home/stack/elasticsearch"
    )
    assert root.logs == user.logs  # Kafka's logs, pid files and downloads stay in the home
    assert root.downloads == tmp_path / "home/downloads"


def test_unpack_keeps_the_executable_bits(tmp_path: Path) -> None:
    archive = tmp_path / "es.zip"
    with zipfile.ZipFile(archive, "w") as out:
        script = zipfile.ZipInfo("elasticsearch-1.0/bin/elasticsearch")
        script.external_attr = (stat.S_IFREG | 0o755) << 16
        out.writestr(script, "#!/bin/sh\n")
        out.writestr("elasticsearch-1.0/lib/x.jar", b"jar")
    dest = tmp_path / "dist" / "elasticsearch-1.0"
    dest.parent.mkdir()
    unpack(archive, dest)
    assert (dest / "bin/elasticsearch").stat().st_mode & 0o777 == 0o755
    assert (dest / "lib/x.jar").stat().st_mode & 0o444 == 0o444
    assert not (tmp_path / "dist" / "elasticsearch-1.0.unpacking").exists()
    unpack(archive, dest)  # a second time is a no-op
