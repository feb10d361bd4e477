"""The page's Elasticsearch adapter and command-line helpers, with a fake client (no server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elastic_transport import ConnectionError as TransportConnectionError
from elasticsearch import ApiError

from newsflow.core.errors import RetryableError
from newsflow.core.names import Names
from newsflow.core.webauth import is_loopback
from newsflow.ui.backend import Backend
from newsflow.ui.cli import public_url
from newsflow.ui.queries import InvalidParams, PageQuery


def _api_error(status: int, reason: str) -> ApiError:
    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.01, NodeConfig("http", "es", 9200))
    body = {"error": {"root_cause": [{"type": "x", "reason": reason}], "type": "x"}}
    return ApiError(reason, meta, body)


class FakeEs:
    """Answers each search from a queue: a response dict, or an exception to raise."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    async def search(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _run(backend: Backend, method: str, *args: Any) -> Any:
    return asyncio.run(getattr(backend, method)(*args))


def test_searches_tolerate_a_missing_index_and_name_the_namespace_indices() -> None:
    es = FakeEs({"hits": {"total": {"value": 0}, "hits": []}, "_shards": {"total": 0}})
    payload = _run(Backend(es, Names("ns1")), "alerts", 5)
    assert payload["exists"] is False
    assert es.calls[0]["index"] == "ns1-alerts"
    assert es.calls[0]["ignore_unavailable"] is True
    assert es.calls[0]["body"]["size"] == 5


def test_articles_are_folded_with_a_second_search_only_when_there_are_any() -> None:
    hit = {"_id": "a1", "_source": {"id": "a1", "story_id": "st-1"}}
    found = {"hits": {"total": {"value": 1}, "hits": [hit]}, "aggregations": {}}
    folding = {"aggregations": {"stories": {"of": {"buckets": [{"key": "st-1", "doc_count": 2}]}}}}
    es = FakeEs(found, folding)
    page = _run(Backend(es, Names("ns1")), "articles", PageQuery())
    assert page["articles"][0]["story_size"] == 2
    assert es.calls[1]["body"]["aggs"]["stories"]
    empty = FakeEs({"hits": {"total": {"value": 0}, "hits": []}})
    assert _run(Backend(empty, Names("ns1")), "articles", PageQuery())["articles"] == []
    assert len(empty.calls) == 1


@pytest.mark.parametrize(
    ("error", "raised", "message"),
    [
        (_api_error(400, "bad field"), InvalidParams, "refused the search: bad field"),
        (_api_error(429, "too many requests"), RetryableError, "answered 429"),
        (_api_error(503, "no master"), RetryableError, "answered 503: no master"),
        (TransportConnectionError("refused"), RetryableError, "unreachable"),
    ],
)
def test_elasticsearch_failures_become_a_400_or_a_retry(
    error: Exception, raised: type[Exception], message: str
) -> None:
    with pytest.raises(raised, match=message):
        _run(Backend(FakeEs(error), Names("ns1")), "facets", PageQuery())


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_printed_urls_carry_no_credentials() -> None:
    assert public_url("https://user:secret@es.example:9243/") == "https://es.example:9243/"
    assert public_url("http://localhost:9200") == "http://localhost:9200"
