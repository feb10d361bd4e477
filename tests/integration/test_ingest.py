"""``POST /articles`` over real HTTP on 127.0.0.1, publishing to the real Kafka."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from newsflow.core.clients import kafka_producer
from processors.stages.decode import clean_article
from producers.ingest import IngestSettings, Publisher, create_app
from schemas.raw import RawArticle
from tests.integration.test_feeds import read_raw
from tests.support import VENV_BIN, Namespace, free_port, wait_for

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ARTICLE = {
    "url": "https://example.org/news/bridge-reopens",
    "title": "Bridge reopens",
    "body": "<p>The old bridge reopened on Monday after a year of repairs.</p>",
    "published_at": "2026-11-02T08:00:00Z",
    "source": "Example News",
}


def _id(article: dict[str, Any]) -> str:
    return clean_article(RawArticle.model_validate(article)).id


class IngestServer:
    """The ingest app on a random port, its own event loop in a thread, a real producer."""

    def __init__(self, ns: Namespace, producer: Any = None, **settings: Any) -> None:
        self.settings = IngestSettings(port=free_port(), **settings)
        self.producer = producer or kafka_producer(ns.settings)
        app = create_app(Publisher(self.producer, ns.names.raw_topic), self.settings)
        self.url = f"http://127.0.0.1:{self.settings.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._runner = web.AppRunner(app)
        self._call(self._runner.setup())
        self._call(web.TCPSite(self._runner, "127.0.0.1", self.settings.port).start())

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def post(self, body: Any, headers: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(
            f"{self.url}/articles", content=content, headers=headers, timeout=60, **kw
        )

    def close(self) -> None:
        self._call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self.producer.close(timeout=10)


@pytest.fixture
def ingest(namespace: Namespace) -> Iterator[Callable[..., IngestServer]]:
    servers: list[IngestServer] = []

    def start(**settings: Any) -> IngestServer:
        servers.append(IngestServer(namespace, **settings))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_one_article(namespace: Namespace, ingest: Callable[..., IngestServer]) -> None:
    server = ingest(token=TOKEN)
    response = server.post(ARTICLE, AUTH)
    assert response.status_code == 202, response.text
    assert response.json() == {"ids": [_id(ARTICLE)], "topic": namespace.names.raw_topic}
    [(key, value)] = read_raw(namespace)
    assert key == _id(ARTICLE)
    assert value == {**ARTICLE, "published_at": "2026-11-02T08:00:00Z"}


def test_an_array(namespace: Namespace, ingest: Callable[..., IngestServer]) -> None:
    server = ingest()  # no token configured: open (it binds to 127.0.0.1 by default)
    batch = [ARTICLE, {"body": "A second article, without id or url."}, {"id": "x-3", "body": "3"}]
    response = server.post(batch)
    assert response.status_code == 202, response.text
    ids = response.json()["ids"]
    assert ids == [_id(a) for a in batch]
    assert sorted(key for key, _ in read_raw(namespace)) == sorted(ids)


def test_invalid_articles_get_400_with_reasons_by_index(
    namespace: Namespace, ingest: Callable[..., IngestServer]
) -> None:
    server = ingest()
    batch = [ARTICLE, {"title": "no body"}, {"body": "ok", "published_at": "yesterday"}, 7]
    response = server.post(batch)
    assert response.status_code == 400
    problem = response.json()
    assert problem["error"] == "3 of 4 articles are invalid"
    reasons = {e["index"]: e["errors"] for e in problem["errors"]}
    assert set(reasons) == {1, 2, 3}
    assert reasons[1] == [{"loc": "body", "msg": "Field required"}]
    assert reasons[2][0]["loc"] == "published_at"
    assert "expected an object" in reasons[3][0]["msg"]

    not_json = server.post(b'{"body": "unterminated')
    assert not_json.status_code == 400
    assert not_json.json()["error"].startswith("body is not JSON")
    assert namespace.raw_end_offsets() == 0, "nothing of a rejected request is published"


def test_an_oversized_body_gets_413(
    namespace: Namespace, ingest: Callable[..., IngestServer]
) -> None:
    server = ingest(max_body_bytes=4096)
    big = {**ARTICLE, "body": "word " * 2000}
    response = server.post(big)
    assert response.status_code == 413
    assert "limit 4096" in response.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: aiohttp's own limit applies
        yield json.dumps(big).encode()

    chunked = httpx.post(f"{server.url}/articles", content=chunks(), timeout=60)
    assert chunked.status_code == 413
    assert server.post({**ARTICLE, "body": "short"}).status_code == 202
    assert namespace.raw_end_offsets() == 1


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
    ],
)
def test_a_missing_or_wrong_token_gets_401(
    namespace: Namespace, ingest: Callable[..., IngestServer], headers: dict[str, str] | None
) -> None:
    server = ingest(token=TOKEN, max_body_bytes=4096)
    response = server.post(ARTICLE, headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # Authentication comes first: an unauthenticated client learns nothing about limits.
    assert server.post({**ARTICLE, "body": "x" * 10_000}, headers).status_code == 401
    assert namespace.raw_end_offsets() == 0


class Unacknowledged:
    """A producer whose sends Kafka never acknowledges (a broker outage, as the client sees it)."""

    def send(self, topic: str, key: bytes, value: bytes) -> Any:
        from kafka.errors import KafkaTimeoutError

        class Future:
            def get(self, timeout: float) -> None:
                raise KafkaTimeoutError("Batch for raw-0 containing 1 record(s) expired")

        return Future()

    def close(self, timeout: float) -> None:
        pass


def test_kafka_not_acknowledging_gets_503_with_retry_after(
    ingest: Callable[..., IngestServer],
) -> None:
    server = ingest(producer=Unacknowledged())
    response = server.post(ARTICLE)
    assert response.status_code == 503
    assert response.json()["error"].startswith("Kafka did not acknowledge")
    assert response.headers["Retry-After"] == "5"


def test_healthz(namespace: Namespace, ingest: Callable[..., IngestServer]) -> None:
    server = ingest(token=TOKEN)
    response = httpx.get(f"{server.url}/healthz", timeout=10)  # probes need no token
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "topic": namespace.names.raw_topic}


def test_the_ingest_server_command(namespace: Namespace) -> None:
    port = free_port()
    env = {**namespace.env, "NEWSFLOW_INGEST_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [str(VENV_BIN / "newsflow"), "ingest-server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, 60, "ingest-server healthy")
        response = httpx.post(f"{base}/articles", json=[ARTICLE], headers=AUTH, timeout=30)
        assert response.status_code == 202, response.text
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert f"listening on http://127.0.0.1:{port}/articles" in output
    assert TOKEN not in output, "the token must never be logged"
    assert [key for key, _ in read_raw(namespace)] == [_id(ARTICLE)]
