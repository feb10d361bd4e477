"""Requests to Elasticsearch from the alert stage and the notifier, retried while transient.

Every retry of ``processors.alerting`` goes through :func:`newsflow.core.retry.retrying`
with the transient rules of :mod:`newsflow.core.transient`: a whole request that failed
(connection refused, timeout, 429/5xx), and the items of a ``_bulk`` or ``_msearch`` that
failed for a transient reason (:class:`TransientItems`), which the caller raises after
keeping what succeeded. The batch waits meanwhile, as in the sink.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from newsflow.core import transient
from newsflow.core.retry import Backoff, OnError, retrying

if TYPE_CHECKING:
    from elasticsearch import AsyncElasticsearch

log = logging.getLogger("newsflow.alerts")
T = TypeVar("T")


class TransientItems(Exception):
    """Some items of a bulk or multi-search request failed for a reason that may pass."""


def retried(exc: BaseException) -> bool:
    """What the alert stage retries: transient request failures and transient items."""
    return isinstance(exc, TransientItems) or transient.elasticsearch(exc)


def warn_and_retry(what: str) -> OnError:
    """An ``on_error`` for :func:`retrying`: one warning per retry of ``what``; anything not
    :func:`retried` is raised."""

    def on_error(exc: Exception, attempt: int, delay: float) -> None:
        if not retried(exc):
            raise exc
        log.warning(
            "%s will be retried",
            what,
            extra={"stage": "alerts", "attempt": attempt + 1, "delay_s": round(delay, 2),
                   "why": repr(exc)[:300]},
        )  # fmt: skip

    return on_error


async def call_es(
    backoff: Backoff, what: str, request: Callable[..., Awaitable[T]], **params: Any
) -> T:
    """``await request(**params)``; transient failures are retried."""
    return await retrying(lambda: request(**params), backoff, warn_and_retry(what))


async def bulk(
    es: AsyncElasticsearch,
    backoff: Backoff,
    what: str,
    actions: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, dict[str, Any]]:
    """Send ``actions`` (key -> its lines of one bulk action); items refused for a transient
    reason (429 and the like) are sent again, with backoff, until every one has a lasting
    answer. Returns key -> the item's result (``status``, ``_seq_no``, ``error``, ...)."""
    results: dict[str, dict[str, Any]] = {}
    todo = dict(actions)

    async def send() -> None:
        nonlocal todo
        lines = [line for key in todo for line in todo[key]]
        response = await call_es(backoff, what, es.bulk, operations=lines)
        again: dict[str, Sequence[Mapping[str, Any]]] = {}
        for (key, action), item in zip(todo.items(), response["items"], strict=True):
            result = next(iter(item.values()))
            if transient.http_status(int(result.get("status", 500))):
                again[key] = action
            else:
                results[key] = result
        todo = again
        if todo:
            raise TransientItems(f"{len(todo)} items of {what} refused for now")

    if todo:
        await retrying(send, backoff, warn_and_retry(what))
    return results


async def pages(
    es: AsyncElasticsearch, index: str, body: Mapping[str, Any], backoff: Backoff, what: str
) -> AsyncIterator[list[dict[str, Any]]]:
    """The hits of a sorted search, a page (``body["size"]`` hits) at a time (search_after)."""
    after: list[Any] | None = None
    while True:
        page = dict(body) if after is None else {**body, "search_after": after}
        response = await call_es(backoff, what, es.search, index=index, **page)
        hits: list[dict[str, Any]] = response["hits"]["hits"]
        yield hits
        if len(hits) < body["size"]:
            return
        after = hits[-1]["sort"]
