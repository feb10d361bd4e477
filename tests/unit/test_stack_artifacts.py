"""Lock files and the verified download cache (a local HTTP server stands in for Maven Central)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from newsflow.core.errors import StackError
from newsflow.core.settings import Settings
from newsflow.stack import artifacts
from newsflow.stack.artifacts import Artifact, fetch, parse_lock, read_lock
from newsflow.stack.kafka import REQUIRED_ARTIFACTS, locked_artifacts

SHA = "a" * 64
JAR = b"not really a jar"


def test_parse_lock_reads_jars_zips_and_comments() -> None:
    text = f"""# comment
org.apache.kafka:kafka-server:4.3.1  {SHA}

org.elasticsearch.distribution.integ-test-zip:elasticsearch:8.19.21:zip  {SHA}  # trailing
"""
    jar, archive = parse_lock(text)
    assert jar == Artifact("org.apache.kafka", "kafka-server", "4.3.1", SHA)
    assert jar.url == (
        "https://repo1.maven.org/maven2/org/apache/kafka/kafka-server/4.3.1/kafka-server-4.3.1.jar"
    )
    assert archive.url == (
        "https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/"
        "elasticsearch/8.19.21/elasticsearch-8.19.21.zip"
    )


def test_classifier_goes_into_the_file_name() -> None:
    (artifact,) = parse_lock(f"g.h:a:1.0:jar:linux-x86_64 {SHA}")
    assert artifact.relpath == "g/h/a/1.0/a-1.0-linux-x86_64.jar"


@pytest.mark.parametrize(
    "line",
    ["g:a:1.0", f"g:a {SHA}", f"g:a:1.0 {SHA[:-1]}", f"g:a:1.0 {SHA} extra", "g:a:1:x:y:z a"],
)
def test_a_malformed_line_names_the_file_and_line(line: str) -> None:
    with pytest.raises(StackError, match=r"^x.lock:2: expected"):
        parse_lock(f"# header\n{line}\n", source="x.lock")


def test_an_empty_lock_is_an_error() -> None:
    with pytest.raises(StackError, match="no artifacts"):
        parse_lock("# nothing\n")


def test_an_unknown_version_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "kafka-1.0.lock").write_text(f"g:a:1.0 {SHA}\n")
    with pytest.raises(StackError, match=r"kafka 9\.9 \(have: kafka-1\.0\)"):
        read_lock("kafka", "9.9", lock_dir=tmp_path)


def test_the_default_kafka_lock_has_every_jar_the_broker_and_storage_tool_need() -> None:
    jars = locked_artifacts(Settings().kafka_version)
    assert {jar.artifact for jar in jars} >= REQUIRED_ARTIFACTS
    assert all(
        jar.version == Settings().kafka_version for jar in jars if jar.group == "org.apache.kafka"
    )
    assert len({jar.artifact for jar in jars}) == len(jars)  # one version of each


def test_the_default_elasticsearch_lock_pins_the_integ_test_zip() -> None:
    (archive,) = read_lock("elasticsearch", Settings().es_version)
    assert archive.extension == "zip"
    assert archive.group == "org.elasticsearch.distribution.integ-test-zip"


class _Repo(BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Repo]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Repo)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setattr(artifacts, "MAVEN_CENTRAL", f"http://127.0.0.1:{server.server_port}/m2/")
    _Repo.files, _Repo.requests = {}, []
    yield _Repo
    server.shutdown()
    server.server_close()
    thread.join()


def _jar(body: bytes = JAR) -> Artifact:
    return Artifact("org.example", "lib", "1.0", hashlib.sha256(body).hexdigest())


def test_fetch_downloads_verifies_and_then_reuses_the_cache(
    repo: type[_Repo], tmp_path: Path
) -> None:
    repo.files["/m2/org/example/lib/1.0/lib-1.0.jar"] = JAR
    (path,) = fetch([_jar()], tmp_path, progress=False)
    assert path == tmp_path / "org/example/lib/1.0/lib-1.0.jar"
    assert path.read_bytes() == JAR
    fetch([_jar()], tmp_path, progress=False)
    assert len(repo.requests) == 1  # present and verified: never downloaded again


def test_a_corrupted_cached_file_is_downloaded_again(repo: type[_Repo], tmp_path: Path) -> None:
    repo.files["/m2/org/example/lib/1.0/lib-1.0.jar"] = JAR
    (path,) = fetch([_jar()], tmp_path, progress=False)
    path.write_bytes(b"corrupt!")
    fetch([_jar()], tmp_path, progress=False)
    assert path.read_bytes() == JAR
    assert len(repo.requests) == 2


def test_a_refused_download_names_the_url_and_status(repo: type[_Repo], tmp_path: Path) -> None:
    with pytest.raises(StackError, match=r"download refused: http://.*/lib-1\.0\.jar \(HTTP 404\)"):
        fetch([_jar()], tmp_path, progress=False)


def test_a_wrong_checksum_is_refused_and_not_cached(repo: type[_Repo], tmp_path: Path) -> None:
    repo.files["/m2/org/example/lib/1.0/lib-1.0.jar"] = b"tampered"
    with pytest.raises(StackError, match="checksum mismatch"):
        fetch([_jar()], tmp_path, progress=False)
    assert not list(tmp_path.rglob("*.jar"))
