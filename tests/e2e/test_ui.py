"""``newsflow ui`` in headless Chromium against the real stack.

One namespace, one worker, one ``newsflow ui`` and one browser page for the module; the tests
run in order, as a person would use the page: it opens empty, the sample corpus streams in,
a facet filters, a search highlights, an alert arrives. Screenshots go to the test's tmp dir,
or to docs/screenshots when NEWSFLOW_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.alert import Alert
from schemas.article import Article
from tests.support import (
    ROOT,
    SAMPLE,
    VENV_BIN,
    Namespace,
    WorkerProcess,
    free_port,
    wait_for,
)

pytestmark = pytest.mark.stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
WAIT_MS = 30_000
ORIGINALS = {"bool": {"must_not": {"term": {"is_duplicate": True}}}}


def _chromium() -> Path:
    """Debian's Chromium, installed by deploy/install-browser.sh when missing (or a skip)."""
    if not CHROMIUM.exists():
        done = subprocess.run(
            ["bash", str(ROOT / "deploy" / "install-browser.sh")],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if not CHROMIUM.exists():
            pytest.skip(
                f"{CHROMIUM} is absent and deploy/install-browser.sh could not install it: "
                f"{(done.stderr or done.stdout).strip()[-300:]}"
            )
    return CHROMIUM


def _to_docs() -> bool:
    return os.environ.get("NEWSFLOW_SCREENSHOTS") == "1"


def _picture(page: Any, path: Path) -> None:
    """A screenshot; for the docs, once the "new" highlight of fresh cards has faded."""
    if _to_docs():
        page.wait_for_timeout(4500)
    page.screenshot(path=str(path))


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/screenshots only when asked (so runs leave the tree clean)."""
    if _to_docs():
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def ns(stack: None) -> Iterator[Namespace]:
    namespace = Namespace()
    yield namespace
    namespace.close()


@pytest.fixture(scope="module")
def module_worker(ns: Namespace, log_dir: Path) -> Iterator[WorkerProcess]:
    proc = WorkerProcess(ns, log_dir).start()
    # The alerts stage may not have run yet: the page must cope with no alerts index at all.
    ns.es.indices.delete(index=ns.names.alerts_index, ignore_unavailable=True)
    yield proc
    proc.stop()


class UiServer:
    """``newsflow ui`` as a subprocess on a free port of this machine."""

    def __init__(
        self,
        ns: Namespace,
        log_dir: Path,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.headers = dict(headers or {})
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"ui-{self.port}.log"
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "newsflow"), "ui", "--port", str(self.port), *args],
            env={**ns.env, **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(self._ready, 60, f"newsflow ui answering on {self.url} (log: {self.log_path})")
        except BaseException:
            self.stop()
            raise

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(f"newsflow ui exited with {self.proc.returncode}:\n{tail}")
        try:
            url = f"{self.url}/api/info"
            return httpx.get(url, headers=self.headers, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> float:
        """Ctrl-C; returns how long it took to exit (open event streams included)."""
        started = time.monotonic()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()
        return time.monotonic() - started


@pytest.fixture(scope="module")
def ui(ns: Namespace, module_worker: WorkerProcess, log_dir: Path) -> Iterator[UiServer]:
    server = UiServer(ns, log_dir)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page_errors() -> list[str]:
    """Script errors and console errors of the page (each browser test ends with none)."""
    return []


@pytest.fixture(scope="module")
def page(ui: UiServer, page_errors: list[str]) -> Iterator[Any]:
    """The live page in headless Chromium, opened once on the empty namespace."""
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    errors = page_errors
    with (
        tempfile.TemporaryDirectory(prefix="newsflow-chromium-") as profile,
        sync_api.sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        browser_page = context.new_page()
        browser_page.on("pageerror", lambda exc: errors.append(str(exc)))
        browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        browser_page.set_default_timeout(WAIT_MS)
        browser_page.goto(ui.url)
        yield browser_page
        context.close()


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _replay(ns: Namespace, path: Path) -> int:
    done = subprocess.run(
        [str(VENV_BIN / "newsflow"), "replay", "--quiet", str(path)],
        env=ns.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split("sent ", 1)[1].split()[0])


def _settled(ns: Namespace, sent: int) -> int:
    """Wait until the worker drained every stage (newsflow.cli.drained); the first copies."""
    ns.drained(sent)
    return ns.count(ns.names.articles_index, ORIGINALS)


def _clear_filters(page: Any, ui: UiServer) -> None:
    page.goto(ui.url)
    _expect()(page.locator("#status")).to_have_attribute("data-state", "live")


def test_the_page_opens_on_an_empty_namespace_with_no_alerts_yet(
    page: Any, ns: Namespace, ui: UiServer, page_errors: list[str]
) -> None:
    expect = _expect()
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    expect(page.locator("#namespace")).to_have_text(ns.settings.namespace)
    expect(page.locator("#no-alerts")).to_have_text("no alerts yet")
    expect(page.locator("#empty")).to_be_visible()
    alerts = httpx.get(f"{ui.url}/api/alerts", timeout=10).json()
    assert alerts["alerts"] == [] and alerts["cursor"] is None
    assert alerts["exists"] is ns.es.indices.exists(index=ns.names.alerts_index).body
    assert page_errors == []


def test_replayed_articles_stream_in_newest_first_without_a_reload(
    page: Any, ns: Namespace, shots: Path, page_errors: list[str]
) -> None:
    expect = _expect()
    page.evaluate("window.__sameDocument = true")
    started = time.monotonic()
    originals = _settled(ns, _replay(ns, SAMPLE))
    cards = page.locator("#articles > li.card")
    expect(cards).to_have_count(originals)
    print(f"sample corpus on the page {time.monotonic() - started:.1f}s after the replay began")
    assert page.evaluate("window.__sameDocument") is True, "the page was reloaded"
    expect(page.locator("#count")).to_have_text(f"{originals} articles")

    indexed = cards.evaluate_all("cards => cards.map(c => c.querySelector('.ago').title)")
    assert indexed == sorted(indexed, reverse=True), "newest first"
    first = cards.first
    expect(first.locator(".title")).not_to_be_empty()
    assert first.locator(".chip").count() >= 1, "topics shown as chips"
    assert page.locator("#articles .entities").count() > 0, "persons and places shown"
    _picture(page, shots / "stream.png")
    assert page_errors == []


def test_an_article_indexed_late_takes_its_place_by_ingestion_time(
    page: Any, ns: Namespace, page_errors: list[str]
) -> None:
    # A late document (an NLP backlog, a copy that waited for its first copy) is streamed
    # after newer ones: the page used to put it on top of them.
    expect = _expect()
    cards = page.locator("#articles > li.card")
    shown = cards.count()
    assert shown > 1, "the sample corpus is on the page (previous test)"
    times = "cards => cards.map(c => c.querySelector('.ago').dataset.ingested)"
    oldest = min(cards.evaluate_all(times))
    ingested = datetime.fromisoformat(oldest.replace("Z", "+00:00")) - timedelta(hours=1)
    late = Article.model_validate(
        {
            "id": "late-1",
            "title": "An article indexed late",
            "body": "Its ingestion time is older than every card on the page.",
            "ingested_at": ingested,
            "processed_at": datetime.now(UTC),
        }
    )
    ns.es.index(index=ns.names.articles_index, id=late.id, document=late.model_dump(mode="json"))
    expect(cards).to_have_count(shown + 1)
    order = cards.evaluate_all(times)
    assert order == sorted(order, reverse=True), "newest first, the late one in its place"
    assert cards.last.get_attribute("data-id") == "late-1"
    assert page_errors == []


def test_duplicates_fold_under_their_first_copy_and_stories_are_sized(
    page: Any, ns: Namespace
) -> None:
    expect = _expect()
    copies = [d for d in ns.articles() if d["is_duplicate"]]
    assert copies, "corpus/sample holds syndicated copies; none was flagged as a duplicate"
    per_original: dict[str, int] = {}
    for doc in copies:
        per_original[doc["duplicate_of"]] = per_original.get(doc["duplicate_of"], 0) + 1
    for original, count in per_original.items():
        card = page.locator(f'#articles > li.card[data-id="{original}"]')
        toggle = card.locator(".copies-toggle")
        expect(toggle).to_have_text(f"+{count} {'copy' if count == 1 else 'copies'}")
        toggle.click()
        expect(card.locator(".copies > li")).to_have_count(count)
    for doc in copies:
        expect(page.locator(f'#articles > li.card[data-id="{doc["id"]}"]')).to_have_count(0)

    story_sizes: dict[str, int] = {}
    for doc in ns.articles():
        if doc["story_id"] and not doc["is_duplicate"]:
            story_sizes[doc["story_id"]] = story_sizes.get(doc["story_id"], 0) + 1
    grouped = {s: n for s, n in story_sizes.items() if n > 1}
    for story, size in grouped.items():
        badges = page.locator(f'#articles > li.card[data-story="{story}"] .story')
        expect(badges).to_have_count(size)
        expect(badges.first).to_have_text(f"story · {size} articles")


def test_a_facet_filters_the_list_and_the_filter_can_be_removed(
    page: Any, ns: Namespace, ui: UiServer, shots: Path
) -> None:
    expect = _expect()
    _clear_filters(page, ui)
    topic_button = page.locator('[data-facet="topic"] button').first
    topic = topic_button.get_attribute("data-value")
    assert topic
    query = {"bool": {**ORIGINALS["bool"], "filter": {"term": {"topics": topic}}}}
    matching = ns.count(ns.names.articles_index, query)
    topic_button.click()

    cards = page.locator("#articles > li.card")
    expect(cards).to_have_count(matching)
    expect(page.locator("#active .filter")).to_have_text(f"topic: {topic}×")
    for chips in cards.evaluate_all("cards => cards.map(c => c.innerText)"):
        assert topic in chips
    assert f"topic={topic}" in page.url
    _picture(page, shots / "facet.png")

    page.locator("#active .filter").click()
    expect(cards).to_have_count(ns.count(ns.names.articles_index, ORIGINALS))
    expect(page.locator("#active .filter")).to_have_count(0)


def test_search_shows_highlighted_matches(
    page: Any, ns: Namespace, ui: UiServer, shots: Path
) -> None:
    expect = _expect()
    _clear_filters(page, ui)
    terms = "port strike"
    query = {
        "bool": {
            **ORIGINALS["bool"],
            "must": {
                "simple_query_string": {
                    "query": terms,
                    "fields": ["title", "body"],
                    "default_operator": "and",
                }
            },
        }
    }
    matching = ns.count(ns.names.articles_index, query)
    assert matching > 0, "the sample corpus has a port strike"
    page.fill("#q", terms)
    page.press("#q", "Enter")

    cards = page.locator("#articles > li.card")
    expect(cards).to_have_count(matching)
    expect(page.locator("#count")).to_have_text(f"{matching} matching articles")
    for index in range(matching):
        marks = cards.nth(index).locator("mark")
        assert marks.count() > 0, f"card {index} has no highlight"
        assert marks.first.inner_text().lower() in {"port", "strike"}
    toggle = cards.locator(".copies-toggle")
    if toggle.count():
        toggle.first.click()  # show a folded copy in the picture
    _picture(page, shots / "search.png")


def _alert(subscription: str, article: dict[str, Any], fragment: str) -> Alert:
    return Alert(
        subscription_id=subscription,
        article_id=article["id"],
        title=article["title"],
        url=f"https://news.example/{article['id']}",
        source="newsflow sample",
        published_at=article["published_at"],
        matched_at=datetime.now(UTC),
        highlights={"body": [fragment]},
    )


def _index_alert(ns: Namespace, alert: Alert) -> None:
    document = alert.model_dump(mode="json")
    ns.es.index(index=ns.names.alerts_index, id=alert.id, document=document, refresh=True)


def test_alerts_appear_in_the_alerts_feed_as_they_are_indexed(
    page: Any, ns: Namespace, ui: UiServer, shots: Path, page_errors: list[str]
) -> None:
    expect = _expect()
    _clear_filters(page, ui)
    expect(page.locator("#no-alerts")).to_be_visible()
    storm = next(a for a in ns.articles() if "Storm Greer" in (a["title"] or "") + a["body"])
    _index_alert(ns, _alert("storm-watch", storm, "<em>Storm</em> <em>Greer</em> is expected"))

    items = page.locator("#alerts > li.alert")
    expect(items).to_have_count(1)
    expect(items.first.locator(".subscription")).to_have_text("storm-watch")
    expect(items.first.locator(".headline")).to_have_text(storm["title"])
    expect(items.first.locator(".fragment mark")).to_have_text(["Storm", "Greer"])
    expect(page.locator("#no-alerts")).to_be_hidden()
    expect(page.locator("#alert-count")).to_have_text("1")
    _picture(page, shots / "live-page.png")

    # Highlights come from another stage: markup in them is shown, never run.
    other = next(a for a in ns.articles() if a["id"] != storm["id"] and not a["is_duplicate"])
    hostile = (
        "<em>watched</em> <img src=x onerror=window.__pwned=1><script>window.__pwned=1</script>"
    )
    _index_alert(ns, _alert("hostile", other, hostile))
    expect(items).to_have_count(2)
    expect(items.first.locator(".subscription")).to_have_text("hostile")
    expect(items.first.locator(".fragment")).to_contain_text("<script>")
    expect(items.first.locator(".fragment img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None, "a highlight ran a script"
    assert page_errors == []


def test_the_api_refuses_bad_parameters_and_sends_a_strict_policy(ui: UiServer) -> None:
    bad = httpx.get(f"{ui.url}/api/articles", params={"size": "lots"}, timeout=10)
    assert bad.status_code == 400
    assert bad.json() == {"error": "size: not a number: 'lots'"}
    home = httpx.get(ui.url, timeout=10)
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert '<script src="/static/app.js"' in home.text


def test_the_server_stops_promptly_with_a_page_open(
    page: Any, ui: UiServer, page_errors: list[str]
) -> None:
    assert page_errors == [], "the page logged errors"
    expect = _expect()
    expect(page.locator("#status")).to_have_attribute("data-state", "live")
    assert ui.stop() < 10, "an open event stream held the shutdown"
