"""Keyword alerts on the real stack: subscriptions, matching, idempotence, webhooks.

The alert stage is fed as the sink feeds it: articles bulk-indexed into ``<ns>-articles``,
then :meth:`AlertStage.on_indexed` with that batch. Subscriptions go through the real
``newsflow`` command; webhooks hit a local HTTP server.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsflow.cli.offsets import end_offsets
from newsflow.cli.subscriptions import build_subscription, kafka_send
from newsflow.core.bootstrap import ensure_templates
from newsflow.core.clients import async_es_client, kafka_options, kafka_producer
from newsflow.core.errors import ConfigError
from newsflow.core.retry import Backoff
from processors.alerting import channels
from processors.alerting.cache import SUBSCRIPTIONS_TTL_SECONDS
from processors.alerting.channels.base import Channel, Context, Options, Outcome
from processors.alerting.matching import Batch
from processors.alerting.notify import Notifier, NotifyConfig
from processors.alerting.query import check_query, needs
from processors.alerting.searches import msearch_body, string_query
from processors.alerting.stage import AlertStage
from processors.alerting.subscription import Subscription
from producers.files import txt_article
from schemas.article import Article
from tests.faults.proxy import EsFaultProxy
from tests.support import SAMPLE, VENV_BIN, Namespace, WorkerProcess, wait_for

pytestmark = pytest.mark.stack

# What the pipeline would add to the sample corpus (corpus/README.md): topics, stories, copies.
TOPICS = {"004": ["weather"], "005": ["weather", "disaster"], "008": ["sport"], "009": ["sport"]}
STORIES = {"001": "port", "002": "port", "003": "port", "026": "port", "004": "storm"}
DUPLICATES = {"026": "001", "027": "013", "028": "020"}


@pytest.fixture(autouse=True)
def _drop_indices(namespace: Namespace) -> Iterator[None]:
    """Delete the namespace's indices afterwards: the cluster holds at most 1000 shards."""
    yield
    found = namespace.es.cat.indices(index=f"{namespace.settings.namespace}-*", format="json")
    names = [r["index"] for r in found]
    if names:  # by name: wildcard deletes are refused (action.destructive_requires_name)
        namespace.es.indices.delete(index=",".join(names))


def corpus(ingested_at: datetime) -> list[Article]:
    """The sample corpus as enriched articles, in file order."""
    articles = []
    for path in sorted(SAMPLE.glob("*.txt")):
        n = path.name[:3]
        fields = txt_article(path.read_text(encoding="utf-8"))
        articles.append(
            Article(
                id=path.stem,
                title=fields.get("title"),
                body=fields["body"],
                published_at=fields.get("published_at"),
                source="sample",
                ingested_at=ingested_at,
                topics=TOPICS.get(n, []),
                story_id=STORIES.get(n),
                is_duplicate=n in DUPLICATES,
                duplicate_of=next((p.stem for p in SAMPLE.glob(f"{DUPLICATES[n]}_*")), None)
                if n in DUPLICATES
                else None,
            )
        )
    return articles


def newsflow(ns: Namespace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "newsflow"), *args],
        env=ns.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def subscribe(ns: Namespace, *args: str) -> str:
    done = newsflow(ns, "subscribe", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def alert_docs(ns: Namespace) -> dict[str, dict[str, Any]]:
    ns.es.indices.refresh(index=ns.names.alerts_index)
    hits = ns.es.search(index=ns.names.alerts_index, size=1000)["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def topic_records(ns: Namespace) -> list[tuple[str, bytes]]:
    """Every record of ``<ns>.alerts``: (key, value)."""
    from kafka import KafkaConsumer, TopicPartition

    ends = end_offsets(ns.settings, [ns.names.alerts_topic])
    parts = [TopicPartition(t, p) for (t, p) in ends]
    consumer = KafkaConsumer(**kafka_options(ns.settings), enable_auto_commit=False)
    records: list[tuple[str, bytes]] = []
    try:
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        while any(consumer.position(p) < ends[(p.topic, p.partition)] for p in parts):
            for batch in consumer.poll(timeout_ms=1000).values():
                records += [(r.key.decode(), r.value) for r in batch]
    finally:
        consumer.close()
    return records


class Sink:
    """What the sink does for the alert stage: bulk-index a batch, then call ``on_indexed``."""

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.es = async_es_client(ns.settings)
        self.producer = kafka_producer(ns.settings)
        send = kafka_send(self.producer, ns.names.alerts_topic)
        self.stage = AlertStage(self.es, ns.names, ns.settings, send)

    async def feed(self, articles: Sequence[Article], batch: int = 8) -> int:
        fired = 0
        for start in range(0, len(articles), batch):
            part = articles[start : start + batch]
            ops: list[dict[str, Any]] = []
            for article in part:
                ops += [{"index": {"_id": article.id}}, article.model_dump(mode="json")]
            response = await self.es.bulk(index=self.ns.names.articles_index, operations=ops)
            assert not response["errors"], response
            fired += await self.stage.on_indexed(part)
        return fired

    async def close(self) -> None:
        await self.es.close()
        await asyncio.to_thread(self.producer.close)


def run(ns: Namespace, scenario: Callable[[Sink], Any]) -> Any:
    async def main() -> Any:
        sink = Sink(ns)
        try:
            return await scenario(sink)
        finally:
            await sink.close()

    return asyncio.run(main())


# --- matching -----------------------------------------------------------------------------------

EXPECTED = {
    "storm:004_storm_greer_warning",
    "storm:005_storm_greer_damage",
    "quake:013_santa_olaya_earthquake",
    "sport:008_continental_cup_final_report",
    "sport:009_continental_cup_final_reaction",
    "calvera:001_port_strike_calvera",
    "calvera:002_port_strike_costs",
    "calvera:003_port_strike_talks",
    "calvera-story:story:port",
}


def test_the_corpus_fires_exactly_the_expected_alerts_once(namespace: Namespace) -> None:
    ns = namespace
    subscribe(ns, "storm", '"Storm Greer"')
    subscribe(ns, "quake", "earthquake AND aftershocks")
    subscribe(ns, "sport", "*", "--topic", "sport")
    subscribe(ns, "calvera", "Calvera AND strike*")  # 003 says "strikers"
    subscribe(ns, "calvera-story", "Calvera AND strike*", "--per-story")
    subscribe(ns, "nothing", "zeppelin OR dirigible")
    articles = corpus(datetime.now(UTC))

    fired = run(ns, lambda sink: sink.feed(articles))

    docs = alert_docs(ns)
    assert set(docs) == EXPECTED
    assert fired == len(EXPECTED)
    keys = [key for key, _ in topic_records(ns)]
    assert sorted(keys) == sorted(EXPECTED), "each alert exactly once on <ns>.alerts"
    assert {d["delivery"]["status"] for d in docs.values()} == {"published"}
    story = docs["calvera-story:story:port"]
    assert story["article_id"] == "001_port_strike_calvera", "a story fires with its first article"
    storm = docs["storm:004_storm_greer_warning"]
    assert storm["title"] == "Red warning issued as Storm Greer bears down on west coast"
    assert storm["highlights"]["title"] == [
        "Red warning issued as <em>Storm Greer</em> bears down on west coast"
    ]
    assert storm["published_at"].startswith("2026-11-05")

    # The same corpus again, re-ingested later: nothing more fires.
    again = corpus(datetime.now(UTC))
    assert run(ns, lambda sink: sink.feed(again)) == 0
    assert set(alert_docs(ns)) == EXPECTED
    assert len(topic_records(ns)) == len(EXPECTED)


def test_a_duplicate_fires_nothing(namespace: Namespace) -> None:
    subscribe(namespace, "quake", "earthquake AND aftershocks")
    copy = next(a for a in corpus(datetime.now(UTC)) if a.id.startswith("027"))
    assert copy.is_duplicate

    async def scenario(sink: Sink) -> int:
        await sink.feed([copy])
        return await sink.stage.on_indexed([copy])

    assert run(namespace, scenario) == 0
    assert alert_docs(namespace) == {}


def test_a_subscription_made_later_fires_only_for_new_articles(namespace: Namespace) -> None:
    ns = namespace
    old = corpus(datetime.now(UTC))
    run(ns, lambda sink: sink.feed(old))
    subscribe(ns, "late", '"Storm Greer"')
    storm = {
        "id": "storm-returns",
        "title": "Storm Greer returns",
        "ingested_at": datetime.now(UTC),
    }
    fresh = old[3].model_copy(update=storm)

    async def scenario(sink: Sink) -> tuple[int, int]:
        replayed = await sink.feed(old)
        return replayed, await sink.feed([fresh])

    assert run(ns, scenario) == (0, 1)
    assert set(alert_docs(ns)) == {"late:storm-returns"}

    # With --backfill, the existing articles fire at once, and only once.
    out = subscribe(ns, "history", '"Storm Greer"', "--backfill")
    assert "backfill: 3 alerts fired" in out
    assert run(ns, lambda sink: sink.feed(old)) == 0
    assert {k for k in alert_docs(ns) if k.startswith("history:")} == {
        "history:004_storm_greer_warning",
        "history:005_storm_greer_damage",
        "history:storm-returns",
    }


def test_a_subscription_made_while_batches_flow_catches_up(namespace: Namespace) -> None:
    """A batch indexed after the subscription but matched before a worker re-read the
    subscriptions is caught up on when the worker sees the new subscription."""
    ns = namespace
    articles = corpus(datetime.now(UTC) + timedelta(seconds=5))

    async def scenario(sink: Sink) -> int:
        await sink.stage.subscriptions.get()  # the worker's view: no subscription yet
        await asyncio.to_thread(subscribe, ns, "storm", '"Storm Greer"')
        sink.stage.subscriptions.ttl = 3600.0
        first = await sink.feed(articles[3:5])  # matched with the stale view
        sink.stage.subscriptions.invalidate()
        return first + await sink.feed(articles[10:11])

    assert run(ns, scenario) == 2
    assert set(alert_docs(ns)) == {"storm:004_storm_greer_warning", "storm:005_storm_greer_damage"}


def test_alert_writes_refused_with_429_are_retried_until_each_is_stored_and_published_once(
    namespace: Namespace,
) -> None:
    """The stage's bulk writes (create, then the published mark) through a proxy that
    refuses half of the items and a third of the requests with 429."""
    ns = namespace
    subscribe(ns, "calvera", "Calvera")
    articles = corpus(datetime.now(UTC))[:3]
    proxy = EsFaultProxy(ns.settings.es_url, item_share=0.5, request_share=0.3, seed=14).start()
    via_proxy = ns.settings.model_copy(update={"es_url": proxy.url})

    async def scenario(sink: Sink) -> int:
        es = async_es_client(via_proxy)
        send = kafka_send(sink.producer, ns.names.alerts_topic)
        sink.stage = AlertStage(es, ns.names, ns.settings, send)
        sink.stage.backoff = Backoff(base=0.05, cap=0.2)
        try:
            return await sink.feed(articles)
        finally:
            await es.close()

    try:
        fired = run(ns, scenario)
    finally:
        proxy.stop()
    assert proxy.stats.items_rejected > 0 and proxy.stats.requests_rejected > 0, proxy.stats
    docs = alert_docs(ns)
    assert fired == 3 and set(docs) == {f"calvera:{a.id}" for a in articles}
    assert {d["delivery"]["status"] for d in docs.values()} == {"published"}
    assert sorted(key for key, _ in topic_records(ns)) == sorted(docs), "each alert sent once"


# --- refused subscriptions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bad", "strike AND ("], "does not parse: Cannot parse 'strike AND ('"),
        (["bad", "*trike"], "leading wildcard"),
        (["bad", "/str.*/"], "regular expressions"),
        (["bad", "meta:secret"], "field 'meta' is not searchable"),
        (["bad", "strike~4"], "at most 2 edits"),
        (["bad", "x", "--topic", "gossip"], "topics.0: Input should be"),
        (["bad:id", "x"], "no ':'"),
        (["bad", "x", "--channel", "slack"], "channels: unknown channel 'slack' (channels: "),
        (["bad", "x", "--channel", "webhook"], "channels: channel 'webhook' needs option url"),
    ],
)
def test_bad_subscriptions_are_refused_and_never_stored(
    namespace: Namespace, args: list[str], message: str
) -> None:
    done = newsflow(namespace, "subscribe", *args)
    assert done.returncode == 2
    assert done.stderr.startswith("newsflow: error: ") and message in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert namespace.count(namespace.names.subscriptions_index) == 0


def test_a_file_of_subscriptions_is_applied_whole_or_not_at_all(
    namespace: Namespace, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {id: good, query: strike}\n- {id: broken, query: 'a AND ('}\n")
    done = newsflow(namespace, "subscriptions", "--load", str(bad))
    assert done.returncode == 2 and "subscription 'broken'" in done.stderr, done.stderr
    assert "nothing stored" in done.stderr
    assert namespace.count(namespace.names.subscriptions_index) == 0

    good = Path(__file__).resolve().parents[2] / "deploy" / "subscriptions.example.yaml"
    done = newsflow(namespace, "subscriptions", "--load", str(good))
    assert done.returncode == 0, done.stderr
    assert "4 created, 0 updated, 0 unchanged, 0 removed" in done.stdout
    again = newsflow(namespace, "subscriptions", "--load", str(good))
    assert "0 created, 0 updated, 4 unchanged" in again.stdout
    listed = newsflow(namespace, "subscriptions", "--json")
    assert sorted(json.loads(line)["id"] for line in listed.stdout.splitlines()) == [
        "ecb-rates", "port-strikes", "quakes", "storms"
    ]  # fmt: skip
    gone = newsflow(namespace, "unsubscribe", "storms")
    assert gone.returncode == 0
    assert newsflow(namespace, "unsubscribe", "storms").returncode == 2


# --- webhooks -----------------------------------------------------------------------------------


class Webhook:
    """A local HTTP server recording POSTs; ``statuses`` are answered in turn, then 200."""

    def __init__(self, statuses: Sequence[int] = ()) -> None:
        self.posts: list[dict[str, Any]] = []
        self.statuses = list(statuses)
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                hook.posts.append(json.loads(self.rfile.read(length)))
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"boom")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def deliver(ns: Namespace, until: Callable[[], bool]) -> None:
    """Run the notifier on ``<ns>.alerts``, then its sweep until ``until()`` holds."""
    config = NotifyConfig(timeout_seconds=2.0, retry=Backoff(base=0.2, cap=0.5))

    async def main() -> None:
        http = httpx.AsyncClient()
        notifier = Notifier(async_es_client(ns.settings), ns.names, http, config)
        try:
            await notifier.handle(topic_records(ns))
            deadline = asyncio.get_running_loop().time() + 30
            while not await asyncio.to_thread(until):
                assert asyncio.get_running_loop().time() < deadline, alert_docs(ns)
                await asyncio.sleep(0.3)
                await notifier.sweep()
        finally:
            await notifier.close()

    asyncio.run(main())


def test_a_failing_webhook_is_retried_and_ingestion_goes_on(
    namespace: Namespace, webhook: Webhook
) -> None:
    ns = namespace
    webhook.statuses = [500]
    subscribe(ns, "storm", '"Storm Greer"', "--webhook", webhook.url, "--throttle", "none")
    articles = corpus(datetime.now(UTC))
    assert run(ns, lambda sink: sink.feed(articles[3:4])) == 1

    # The webhook answers 500: the alert waits for a retry; matching goes on regardless.
    deliver(ns, until=lambda: bool(webhook.posts))
    status = alert_docs(ns)["storm:004_storm_greer_warning"]["delivery"]
    assert status["status"] == "retrying" and status["http_status"] == 500
    assert status["next_attempt_at"] > status["updated_at"]
    assert run(ns, lambda sink: sink.feed(articles[4:5])) == 1

    def delivered() -> bool:
        return all(d["delivery"]["status"] == "sent" for d in alert_docs(ns).values())

    deliver(ns, until=delivered)
    docs = alert_docs(ns)
    assert docs["storm:004_storm_greer_warning"]["delivery"]["attempts"] == 2
    assert docs["storm:005_storm_greer_damage"]["delivery"]["attempts"] == 1
    ids = [p["alert_id"] for p in webhook.posts]
    assert sorted(ids) == ["storm:004_storm_greer_warning"] * 2 + ["storm:005_storm_greer_damage"]
    assert webhook.posts[0]["text"].startswith("[storm] Red warning issued as Storm Greer")


def test_over_the_throttle_alerts_go_out_in_one_digest(
    namespace: Namespace, webhook: Webhook
) -> None:
    ns = namespace
    subscribe(ns, "calvera", "Calvera", "--webhook", webhook.url, "--throttle", "1/2s")
    assert run(ns, lambda sink: sink.feed(corpus(datetime.now(UTC))[:3])) == 3

    def settled() -> bool:
        statuses = sorted(d["delivery"]["status"] for d in alert_docs(ns).values())
        return statuses == ["digested", "digested", "sent"]

    deliver(ns, until=settled)
    assert len(webhook.posts) == 2
    digest = webhook.posts[1]
    assert digest["text"].startswith("[calvera] 2 more matching articles (throttled):")
    assert len(digest["alert_ids"]) == 2


class Recorder:
    """A throwaway delivery channel, ``recorder``, that requires an ``inbox`` and keeps what
    it is given; its first ``failures`` deliveries fail (retried like a webhook's)."""

    def __init__(self, failures: int = 0) -> None:
        self.got: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.failures = failures

    async def deliver(self, context: Context, options: Options, payload: dict[str, Any]) -> Outcome:
        if self.failures:
            self.failures -= 1
            return Outcome(False, error="inbox full")
        self.got.append((dict(options), payload))
        return Outcome(True)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    found = Recorder(failures=1)
    channels.register(
        Channel("recorder", "keeps alerts", frozenset({"inbox"}), deliver=found.deliver)
    )
    yield found
    del channels.CHANNELS["recorder"]


def test_a_registered_channel_delivers_the_alerts_of_subscriptions_naming_it(
    namespace: Namespace, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    ns = namespace
    ensure_templates(ns.settings, ns.names)
    fields = {"id": "storm", "query": '"Storm Greer"', "throttle": "none",
              "channels": {"recorder": {"inbox": "ops"}, "log": {}}}  # fmt: skip
    sub = build_subscription(fields, datetime.now(UTC))
    ns.es.index(index=ns.names.subscriptions_index, id=sub.id, document=sub.model_dump(mode="json"))
    # A subscription stored with a channel no longer registered is left out, with its reason.
    stale = {**sub.model_dump(mode="json"), "id": "stale", "channels": {"slack": {}}}
    ns.es.index(index=ns.names.subscriptions_index, id="stale", document=stale, refresh=True)
    assert run(ns, lambda sink: sink.feed(corpus(datetime.now(UTC))[3:5])) == 2
    assert "subscription ignored: channels: unknown channel 'slack'" in caplog.text

    def delivered() -> bool:
        docs = alert_docs(ns).values()
        return all(d["delivery"]["status"] == "sent" for d in docs)

    deliver(ns, until=delivered)
    assert sorted(p["alert_id"] for _, p in recorder.got) == [
        "storm:004_storm_greer_warning", "storm:005_storm_greer_damage"
    ]  # fmt: skip
    assert all(options == {"inbox": "ops"} for options, _ in recorder.got)
    assert recorder.got[0][1]["text"].startswith("[storm] ")
    for doc in alert_docs(ns).values():
        by_channel = doc["deliveries"]
        assert set(by_channel) == {"recorder", "log"}, "each delivery channel has its state"
        assert by_channel["log"]["attempts"] == 1
    attempts = sorted(d["deliveries"]["recorder"]["attempts"] for d in alert_docs(ns).values())
    assert attempts == [1, 2], "the failed delivery was retried on its channel only"


# --- through a real worker ----------------------------------------------------------------------


def replay(ns: Namespace, *paths: Path) -> None:
    done = newsflow(ns, "replay", "--quiet", *map(str, paths))
    assert done.returncode == 0, done.stderr


def settled(ns: Namespace, messages: int, documents: int) -> None:
    """Wait until ``messages`` went all the way through the sink (and its alert stage)."""
    ns.settled(documents, messages=messages, timeout=300)


def test_a_worker_fires_alerts_once_and_a_failing_webhook_does_not_hold_it(
    namespace: Namespace, webhook: Webhook, worker: WorkerProcess
) -> None:
    ns = namespace
    webhook.statuses = [500]  # the first POST fails; it is retried by the sweep
    subscribe(ns, "storm", '"Storm Greer"', "--webhook", webhook.url, "--throttle", "none")
    subscribe(ns, "calvera", "Calvera AND strike*")
    subscribe(ns, "calvera-story", "Calvera AND strike*", "--per-story")
    subscribe(ns, "quake", "earthquake AND aftershocks")
    files = list(SAMPLE.glob("*.txt"))
    # Ids come from the content: the byte-identical copy (028) is the same document.
    sample, documents = len(files), len({p.read_bytes() for p in files})

    replay(ns, SAMPLE)
    settled(ns, sample, documents)
    # Article ids come from the content; find the first-seen copies by their headlines.
    articles = [d for d in ns.articles() if not d["is_duplicate"]]

    def article(prefix: str) -> str:
        path = next(SAMPLE.glob(f"{prefix}_*.txt"))
        title = txt_article(path.read_text(encoding="utf-8"))["title"]
        return str(next(d["id"] for d in articles if d["title"] == title))

    calvera = [article(n) for n in ("001", "002", "003")]
    stories = {d["story_id"] for d in articles if d["id"] in calvera}
    expected = {
        f"storm:{article('004')}",
        f"storm:{article('005')}",
        f"quake:{article('013')}",  # not 027, its updated copy
        *(f"calvera:{a}" for a in calvera),  # not 026, the syndicated copy
    }
    docs = alert_docs(ns)
    assert {k for k in docs if not k.startswith("calvera-story:")} == expected
    assert {k for k in docs if k.startswith("calvera-story:")} == {
        f"calvera-story:story:{s}" for s in stories
    }
    assert len(topic_records(ns)) == len(docs)

    def delivered() -> bool:
        storms = [d for k, d in alert_docs(ns).items() if k.startswith("storm:")]
        return all(d["delivery"]["status"] == "sent" for d in storms)

    wait_for(delivered, timeout=120, what="both storm alerts delivered after a 500")
    assert len(webhook.posts) == 3, "one failed POST, then each alert once"

    # The same corpus again: documents re-indexed, nothing fires again.
    replay(ns, SAMPLE)
    settled(ns, 2 * sample, documents)
    assert set(alert_docs(ns)) == set(docs)
    assert len(topic_records(ns)) == len(docs)
    assert len(webhook.posts) == 3


# --- word pre-selection against Elasticsearch ---------------------------------------------------

VOCABULARY = [
    *("port", "strike", "strikers", "Calvera", "dock", "docks", "e-mail", "mail", "1,000"),
    *("000", "O'Neil", "neil", "café", "cafe", "U.S.A", "usa", "Zürich", "rate", "rates"),
    *("x2", "storm", "Greer", "harbour", "talks", "pay", "deal", "union"),
]
FILLER = ["the", "a", "of", "to", "in", "said", "on", "was", "by", "with", "for", "at", "from"]


def _random_query(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for n in range(rng.randint(1, 3)):
        if n:
            parts.append(rng.choice(["AND", "OR", "&&", "||", ""]))
        prefix = rng.choice(["", "", "", "+", "-", "NOT ", "!", "title:", "body:"])
        roll = rng.random()
        if roll < 0.15 and depth < 2:
            clause = f"({_random_query(rng, depth + 1)})"
        elif roll < 0.3:
            clause = f'"{rng.choice(VOCABULARY)} {rng.choice(VOCABULARY)}"' + rng.choice(["", "~3"])
        elif roll < 0.4:
            word = rng.choice([w for w in VOCABULARY if len(w) >= 4])
            clause = word[: rng.randint(3, len(word))] + "*"
        elif roll < 0.45:
            clause = rng.choice([w for w in VOCABULARY if len(w) >= 4]) + "~1"
        else:
            clause = rng.choice(VOCABULARY).replace("-", "\\-").replace("/", "\\/")
            clause = clause.upper() if rng.random() < 0.2 else clause
        parts.append(prefix + clause)
    return " ".join(p for p in parts if p)


def test_word_pre_selection_never_drops_a_match_elasticsearch_makes(
    namespace: Namespace,
) -> None:
    rng = random.Random(20261123)
    punctuation = [" ", " ", ", ", ". ", " - ", "'s ", " (", ") "]
    docs: dict[str, dict[str, Any]] = {}
    for n in range(80):
        words = [
            rng.choice(VOCABULARY if rng.random() < 0.2 else FILLER) + rng.choice(punctuation)
            for _ in range(30)
        ]
        article = Article(
            id=f"d{n}", title=" ".join(rng.sample(VOCABULARY, 2)), body="".join(words),
            ingested_at=datetime.now(UTC),
        )  # fmt: skip
        docs[article.id] = article.model_dump(mode="json")
    ops: list[dict[str, Any]] = []
    for doc_id, doc in docs.items():
        ops += [{"index": {"_id": doc_id}}, doc]
    namespace.es.bulk(index=namespace.names.articles_index, operations=ops, refresh=True)

    queries = []
    while len(queries) < 400:
        query = _random_query(rng)
        try:
            check_query(query)
        except ConfigError:
            continue
        queries.append(query)
    searches = [{"size": len(docs), "_source": False, "query": string_query(q)} for q in queries]
    responses = namespace.es.msearch(
        index=namespace.names.articles_index, searches=msearch_body(searches)
    )["responses"]
    batch = Batch.of(docs)
    created = datetime(2020, 1, 1, tzinfo=UTC)
    pruned = checked = 0
    for query, response in zip(queries, responses, strict=True):
        if "error" in response:
            continue  # Elasticsearch refuses it: validation would have too
        checked += 1
        hits = {h["_id"] for h in response["hits"]["hits"]}
        sub = Subscription(id="s", query=query, created_at=created)
        candidates = set(batch.eligible(sub, needs(query)))
        assert hits <= candidates, (query, needs(query), sorted(hits - candidates))
        pruned += len(docs) - len(candidates)
    assert checked > 300
    assert pruned > checked * len(docs) // 4, "pre-selection should skip most non-matches"


def test_a_subscription_made_between_two_replays_fires_nothing(
    namespace: Namespace, worker: WorkerProcess
) -> None:
    ns = namespace
    files = list(SAMPLE.glob("*.txt"))
    documents = len({p.read_bytes() for p in files})
    replay(ns, SAMPLE)
    settled(ns, len(files), documents)
    subscribe(ns, "late", '"Storm Greer"')
    time.sleep(SUBSCRIPTIONS_TTL_SECONDS + 1)  # the worker has re-read the subscriptions
    replay(ns, SAMPLE)
    settled(ns, 2 * len(files), documents)
    assert alert_docs(ns) == {}
