"""``newsflow feeds`` against fixture feeds served over real HTTP on 127.0.0.1, and real Kafka."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from newsflow.core.clients import kafka_options
from tests.support import VENV_BIN, Namespace, wait_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"
LAST_MODIFIED = "Mon, 02 Nov 2026 08:15:00 GMT"
NEXT_MODIFIED = "Tue, 03 Nov 2026 09:30:00 GMT"
RSS2_TITLES = {
    "Ferry service resumes after winter storms",
    "Council approves new sea wall budget",
    "Fish market opens a Saturday evening hall",
}  # the fourth item, a photo without text, is skipped
RSS1_TITLES = {
    "Observatory confirms a faint comet over the valley",
    "Soil survey finds farms recovering from drought",
}
ATOM_TITLES = {
    "Night trains return to the <em>northern</em> line",
    "Station roof repairs finish early",
}


@dataclass
class Route:
    """What the fixture server answers on one path."""

    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class Seen:
    """One request the fixture server received, and the status it answered."""

    path: str
    headers: dict[str, str]
    status: int


class FeedServer:
    """Fixture feeds and pages over HTTP on 127.0.0.1 (a random port), in a thread.

    Answers 304 to a conditional GET that matches, 404 on unknown paths, and records every
    request. Links in the fixtures (``http://127.0.0.1/...``) are rewritten to this server.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def serve(self, path: str, fixture: str, **route: Any) -> str:
        """Serve a fixture file at ``path``; returns its URL."""
        body = (FIXTURES / fixture).read_bytes()
        body = body.replace(b"http://127.0.0.1/", f"{self.base}/".encode())
        self.routes[path] = Route(body, **route)
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base + path

    def requests_to(self, path: str) -> list[Seen]:
        return [r for r in list(self.requests) if r.path == path]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _answer(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        route = self.routes.get(path)
        if route is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        time.sleep(route.delay)
        validators = {"ETag": route.etag, "Last-Modified": route.last_modified}
        sent = {k: v for k, v in validators.items() if v}
        # RFC 9110: If-None-Match, when sent, decides; If-Modified-Since only without it.
        if "if-none-match" in headers:
            unchanged = route.etag is not None and headers["if-none-match"] == route.etag
        else:
            since = headers.get("if-modified-since")
            unchanged = route.last_modified is not None and since == route.last_modified
        if unchanged:
            return 304, sent, b""
        return 200, {"Content-Type": route.content_type, **sent}, route.body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, body = server._answer(path, headers)
                server.requests.append(Seen(path, headers, status))
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the poller gave up waiting (the timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def server() -> Iterator[FeedServer]:
    srv = FeedServer()
    yield srv
    srv.close()


def read_raw(ns: Namespace) -> list[tuple[str, dict[str, Any]]]:
    """Every record of ``<ns>.raw``: (key, decoded value)."""
    from kafka import KafkaConsumer, TopicPartition

    topic = ns.names.raw_topic
    consumer = KafkaConsumer(**kafka_options(ns.settings), enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time.monotonic() + 30
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    return [(r.key.decode(), json.loads(r.value)) for r in records]


def write_config(tmp_path: Path, feeds: list[dict[str, Any]], **shared: Any) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(yaml.safe_dump({"feeds": feeds, **shared}), encoding="utf-8")
    return path


def run_feeds(
    ns: Namespace, *args: str | Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "newsflow"), "feeds", *map(str, args)],
        env=ns.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_new_items_reach_raw_once_across_polls_and_a_restart(
    namespace: Namespace, server: FeedServer, tmp_path: Path
) -> None:
    rss2 = server.serve("/rss2.xml", "rss2.xml", etag='"v1"', last_modified=LAST_MODIFIED)
    rss1 = server.serve("/rss1.xml", "rss1.xml", content_type="application/rdf+xml")
    atom = server.serve("/atom.xml", "atom.xml", content_type="application/atom+xml")
    config = write_config(
        tmp_path,
        [
            {"name": "gazette", "url": rss2, "interval": 1, "source": "Harbour Gazette"},
            {"name": "science", "url": rss1, "interval": 1},
            {"name": "rail", "url": atom, "interval": 1},
        ],
    )
    state = tmp_path / "seen.sqlite3"
    log_path = tmp_path / "poller.log"
    with log_path.open("w") as log:
        poller = subprocess.Popen(
            [str(VENV_BIN / "newsflow"), "feeds", "--config", str(config), "--state", str(state)],
            env=namespace.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: namespace.raw_end_offsets() >= 7, 60, "the first poll's 7 articles")
        wait_for(
            lambda: any(r.status == 304 for r in server.requests_to("/rss2.xml")),
            30,
            "a conditional GET of an unchanged feed answered 304",
        )
        server.serve("/rss2.xml", "rss2_next.xml", etag='"v2"', last_modified=NEXT_MODIFIED)
        wait_for(lambda: namespace.raw_end_offsets() >= 8, 60, "the new item of the second poll")
        polls = len(server.requests_to("/rss2.xml"))
        wait_for(lambda: len(server.requests_to("/rss2.xml")) >= polls + 2, 30, "two more polls")
    finally:
        poller.send_signal(signal.SIGTERM)
        returncode = poller.wait(timeout=60)
    output = log_path.read_text()
    assert returncode == 0, output
    assert "stopping after the polls in flight" in output

    # A restart: the feed answers 200 (a new ETag) with items that were all published.
    server.serve("/rss2.xml", "rss2_next.xml", etag='"v3"')
    done = run_feeds(namespace, "--config", config, "--state", state, "--once")
    assert done.returncode == 0, done.stderr
    assert "feed gazette: 4 items, 1 new, 0 published, 1 skipped" in done.stderr

    records = read_raw(namespace)
    keys = [key for key, _ in records]
    assert len(keys) == len(set(keys)) == 8, sorted(keys)
    titles = {value["title"] for _, value in records}
    expected = (
        RSS2_TITLES | RSS1_TITLES | ATOM_TITLES | {"Harbour master retires after thirty years"}
    )
    assert titles == expected
    by_title = {value["title"]: (key, value) for key, value in records}
    key, ferry = by_title["Ferry service resumes after winter storms"]
    assert key == "tag:harbour-gazette.example,2026:ferry-resumes"
    assert ferry["source"] == "Harbour Gazette"
    assert ferry["meta"] == {"feed": "gazette", "guid": key}
    assert ferry["published_at"] == "2026-11-02T08:15:00Z"
    assert by_title["Station roof repairs finish early"][1]["source"] == "Northern Rail Watch"


def test_bad_feeds_are_reported_by_name_and_the_others_go_on(
    namespace: Namespace, server: FeedServer, tmp_path: Path
) -> None:
    feeds = [
        {"name": "good", "url": server.serve("/good.xml", "rss2.xml")},
        {"name": "broken", "url": server.serve("/broken.xml", "malformed.xml")},
        {"name": "gone", "url": server.url("/gone.xml")},
        {
            "name": "homepage",
            "url": server.serve("/", "not_a_feed.html", content_type="text/html; charset=utf-8"),
        },
        {"name": "slow", "url": server.serve("/slow.xml", "rss1.xml", delay=4)},
    ]
    config = write_config(tmp_path, feeds, timeout=1)
    started = time.monotonic()
    done = run_feeds(namespace, "--config", config, "--state", tmp_path / "s.sqlite3", "--once")
    took = time.monotonic() - started

    assert done.returncode == 1, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    expected = {
        "broken": "malformed feed (not well-formed",
        "gone": "HTTP 404 Not Found",
        "homepage": "not a feed: an HTML page (text/html",
        "slow": "timed out after 1 s",
    }
    for name, reason in expected.items():
        lines = [line for line in warnings if f"feed {name} (" in line]
        assert len(lines) == 1 and reason in lines[0], (name, done.stderr)
    assert "feed good: 4 items, 4 new, 3 published, 1 skipped" in done.stderr
    assert "Traceback" not in done.stderr
    assert "5 polled, 4 failed; 3 articles published" in done.stdout
    assert {value["title"] for _, value in read_raw(namespace)} == RSS2_TITLES
    assert took < 4 + 15, "the slow feed held the poller past its timeout"


def test_conditional_get_sends_the_validators_and_a_304_publishes_nothing(
    namespace: Namespace, server: FeedServer, tmp_path: Path
) -> None:
    url = server.serve("/rss2.xml", "rss2.xml", etag='"v1"', last_modified=LAST_MODIFIED)
    state = tmp_path / "seen.sqlite3"
    first = run_feeds(namespace, url, "--once", "--state", state)
    assert first.returncode == 0, first.stderr
    second = run_feeds(namespace, url, "--once", "--state", state)
    assert second.returncode == 0, second.stderr
    assert ": not modified" in second.stderr

    before, after = server.requests_to("/rss2.xml")
    assert "if-none-match" not in before.headers and "if-modified-since" not in before.headers
    assert after.headers["if-none-match"] == '"v1"'
    assert after.headers["if-modified-since"] == LAST_MODIFIED
    assert (before.status, after.status) == (200, 304)
    assert before.headers["user-agent"].startswith("newsflow/")
    assert namespace.raw_end_offsets() == 3


def test_full_text_fetches_the_linked_page(
    namespace: Namespace, server: FeedServer, tmp_path: Path
) -> None:
    url = server.serve("/rss2.xml", "rss2.xml")
    server.serve("/news/ferry-resumes", "article.html", content_type="text/html; charset=utf-8")
    config = write_config(tmp_path, [{"name": "gazette", "url": url, "full_text": True}])
    done = run_feeds(namespace, "--config", config, "--once", "--state", tmp_path / "s.sqlite3")
    assert done.returncode == 0, done.stderr

    bodies = {value["title"]: value["body"] for _, value in read_raw(namespace)}
    assert "lorry of supplies" in bodies["Ferry service resumes after winter storms"]
    # The other pages are 404: a warning, and the feed's own text.
    assert "full text of" in done.stderr and "HTTP 404" in done.stderr
    assert bodies["Council approves new sea wall budget"].startswith("<p>Eastwick council")
    [page] = server.requests_to("/news/ferry-resumes")
    assert page.headers["user-agent"].startswith("newsflow/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give feed URLs or --config FILE"),
        (["ftp://example.org/feed"], "feeds[0].url"),
        (["--config", "BAD"], "feeds[0].interval"),
        (["--config", "BAD", "--interval", "5"], "--interval and --full-text are for feed URLs"),
    ],
)
def test_bad_arguments_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    bad = write_config(tmp_path, [{"name": "a", "url": "http://127.0.0.1:9/a", "interval": "x"}])
    argv = [str(bad) if a == "BAD" else a for a in args]
    done = subprocess.run(
        [str(VENV_BIN / "newsflow"), "feeds", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("newsflow: error: ") and message in done.stderr, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
