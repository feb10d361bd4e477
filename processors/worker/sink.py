"""Stage ``sink``: documents to Elasticsearch with async bulk requests, ``_id`` = article id.

Transient failures (connection errors, timeouts, 429, 5xx) are retried with backoff until
they succeed: the caller acks nothing before :meth:`BulkSink.write` returns. Permanent
per-item failures (a document the mapping rejects) come back as reasons, to be dead-lettered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from newsflow.core import metrics, transient
from newsflow.core.retry import Backoff, retry_if, retrying

log = logging.getLogger("newsflow.sink")


@dataclass
class BulkResult:
    """What happened to one write: how many were indexed, which were rejected and why."""

    indexed: int = 0
    rejected: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (kind, reason)
    retries: int = 0


def _item_error(item: dict[str, Any]) -> tuple[int, str, str] | None:
    result = next(iter(item.values()))
    error = result.get("error")
    if not error:
        return None
    kind = error.get("type", "unknown") if isinstance(error, dict) else "unknown"
    reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
    return int(result.get("status", 500)), kind, reason


class BulkSink:
    """Writes JSON documents to one index; never returns before each is indexed or rejected."""

    def __init__(self, es: Any, index: str, backoff: Backoff | None = None) -> None:
        self.es = es
        self.index = index
        self.backoff = backoff or Backoff()

    async def write(self, docs: Sequence[tuple[str, dict[str, Any]]]) -> BulkResult:
        """Index ``(id, document)`` pairs; retry transient failures, report permanent ones."""
        result = BulkResult()
        await self._write(list(docs), result)
        return result

    async def _write(self, docs: list[tuple[str, dict[str, Any]]], result: BulkResult) -> None:
        pending = docs

        async def attempt() -> None:
            nonlocal pending
            pending = await self._bulk(pending, result)
            if pending:
                raise _ItemsNotNow(f"{len(pending)} items rejected for now")

        def count() -> None:
            result.retries += 1
            metrics.BULK_RETRIES.labels(self.index).inc()

        transient_failure = retry_if(
            lambda exc: isinstance(exc, _ItemsNotNow) or transient.elasticsearch(exc),
            f"bulk write to {self.index}",
            count,
            log,
            stage="sink",
        )
        await retrying(attempt, self.backoff, transient_failure)

    async def _bulk(
        self, docs: list[tuple[str, dict[str, Any]]], result: BulkResult
    ) -> list[tuple[str, dict[str, Any]]]:
        """One bulk request; returns the documents to send again (transient item failures)."""
        try:
            response = await self.es.bulk(operations=self._operations(docs), refresh=False)
        except Exception as exc:  # connection refused, timeouts, 429/5xx on the request
            refusal = _refused_request(exc)
            if refusal is None:
                raise  # transient (retried by _write) or a bug
            # One document can fail the whole request (an _id over 512 bytes, a body over
            # http.max_content_length): halve until it stands alone, reject it.
            if len(docs) == 1:
                result.rejected[docs[0][0]] = refusal
                return []
            half = len(docs) // 2
            await self._write(docs[:half], result)
            await self._write(docs[half:], result)
            return []
        retry: list[tuple[str, dict[str, Any]]] = []
        for (doc_id, doc), item in zip(docs, response["items"], strict=True):
            failure = _item_error(item)
            if failure is None:
                result.indexed += 1
            elif transient.http_status(failure[0]):
                retry.append((doc_id, doc))
            else:
                result.rejected[doc_id] = (failure[1], failure[2])
        return retry

    def _operations(self, docs: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for doc_id, doc in docs:
            ops.append({"index": {"_index": self.index, "_id": doc_id}})
            ops.append(doc)
        return ops


class _ItemsNotNow(Exception):
    """Some items of a bulk request were refused for now (429, 5xx): send them again."""


def _refused_request(exc: Exception) -> tuple[str, str] | None:
    """(kind, reason) when Elasticsearch refused the request for a document it holds.

    Only these two: any other 4xx says something about the cluster, not the documents, and
    must stop the batch rather than dead-letter all of it.
    """
    from elasticsearch import ApiError

    if not isinstance(exc, ApiError):
        return None
    if exc.meta.status == 413 or exc.error == "action_request_validation_exception":
        return str(exc.error), str(exc.message)[:500]
    return None
