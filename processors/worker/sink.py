"""Stage ``sink``: documents to Elasticsearch with async bulk requests, ``_id`` = article id.

Transient failures (connection errors, timeouts, 429, 5xx) are retried with backoff until
they succeed: the caller acks nothing before :meth:`BulkSink.write` returns. Permanent
per-item failures (a document the mapping rejects) come back as reasons, to be dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from newsflow.core import metrics, transient
from newsflow.core.retry import Backoff

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
        attempt = 0
        while pending:
            try:
                response = await self.es.bulk(operations=self._operations(pending), refresh=False)
            except Exception as exc:  # connection refused, timeouts, 429/5xx on the request
                if transient.elasticsearch(exc):
                    attempt = await self._wait(attempt, result, repr(exc))
                    continue
                refusal = _refused_request(exc)
                if refusal is None:
                    raise
                # One document can fail the whole request (an _id over 512 bytes, a body
                # over http.max_content_length): halve until it stands alone, reject it.
                if len(pending) == 1:
                    result.rejected[pending[0][0]] = refusal
                    return
                half = len(pending) // 2
                await self._write(pending[:half], result)
                await self._write(pending[half:], result)
                return
            retry: list[tuple[str, dict[str, Any]]] = []
            for (doc_id, doc), item in zip(pending, response["items"], strict=True):
                failure = _item_error(item)
                if failure is None:
                    result.indexed += 1
                elif transient.http_status(failure[0]):
                    retry.append((doc_id, doc))
                else:
                    result.rejected[doc_id] = (failure[1], failure[2])
            pending = retry
            if pending:
                attempt = await self._wait(
                    attempt, result, f"{len(pending)} items rejected for now"
                )

    def _operations(self, docs: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = []
        for doc_id, doc in docs:
            ops.append({"index": {"_index": self.index, "_id": doc_id}})
            ops.append(doc)
        return ops

    async def _wait(self, attempt: int, result: BulkResult, why: str) -> int:
        delay = self.backoff.delay(attempt)
        result.retries += 1
        # Counted now, not when the write returns: during an outage it does not return, and
        # the retries are what an operator must see on /metrics.
        metrics.BULK_RETRIES.labels(self.index).inc()
        log.warning(
            "bulk write to %s will be retried",
            self.index,
            extra={"stage": "sink", "attempt": attempt + 1, "delay_s": round(delay, 2), "why": why},
        )
        await asyncio.sleep(delay)
        return attempt + 1


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
