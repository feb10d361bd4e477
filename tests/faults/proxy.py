"""An HTTP proxy in front of Elasticsearch that answers 429 to a share of bulk work.

Elasticsearch sheds load in two ways, and a sink must survive both:

* per item: the bulk request succeeds (200, ``errors: true``) but some items come back with
  status 429 ``es_rejected_execution_exception`` (a full write queue on the shard's node);
  those items were **not** indexed, the others were. The proxy models this faithfully: it
  forwards only the items it lets through and merges its own 429 items back in, in order.
* per request: the whole ``_bulk`` is refused with 429 (a full coordinating queue).

Everything else is forwarded verbatim. ``on_bulk_indexed`` is called with the documents
indexed per index after a successful bulk response has been written back to the client: the
moment a document is in Elasticsearch and its Kafka offset not yet committed, where a crash
tests idempotence hardest.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

_HOP_BY_HOP = {
    "host", "content-length", "transfer-encoding", "connection", "keep-alive",
    "accept-encoding", "content-encoding", "date", "server",
}  # fmt: skip
_REJECTED = "es_rejected_execution_exception"
_REASON = (
    "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, "
    "replica_bytes=0, all_bytes=0, coordinating_operation_bytes=0, max_coordinating_and_"
    "primary_bytes=0] (injected by the newsflow fault proxy)"
)


@dataclass
class ProxyStats:
    """What the proxy did so far."""

    bulk_requests: int = 0
    items_seen: int = 0
    items_rejected: int = 0
    requests_rejected: int = 0
    rejected_ids: set[str] = field(default_factory=set)


def split_bulk(body: bytes) -> list[tuple[bytes, bytes | None]]:
    """NDJSON bulk body -> (action line, source line or None for deletes)."""
    lines = [line for line in body.split(b"\n") if line.strip()]
    ops: list[tuple[bytes, bytes | None]] = []
    n = 0
    while n < len(lines):
        action = json.loads(lines[n])
        if "delete" in action:
            ops.append((lines[n], None))
            n += 1
        else:
            ops.append((lines[n], lines[n + 1]))
            n += 2
    return ops


def join_bulk(ops: list[tuple[bytes, bytes | None]]) -> bytes:
    """The inverse of :func:`split_bulk`."""
    return b"".join(a + b"\n" + (s + b"\n" if s is not None else b"") for a, s in ops)


def rejected_item(action_line: bytes, default_index: str | None) -> dict[str, Any]:
    """The bulk response item Elasticsearch gives an operation it sheds."""
    action = json.loads(action_line)
    kind, meta = next(iter(action.items()))
    return {
        kind: {
            "_index": meta.get("_index", default_index),
            "_id": meta.get("_id"),
            "status": 429,
            "error": {"type": _REJECTED, "reason": _REASON},
        }
    }


class EsFaultProxy:
    """Runs in its own thread with its own event loop; ``url`` is where clients connect."""

    def __init__(
        self,
        upstream: str,
        item_share: float = 0.0,
        request_share: float = 0.0,
        seed: int = 0,
        port: int = 0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.item_share = item_share
        self.request_share = request_share
        self.on_bulk_indexed: Callable[[dict[str, int]], None] | None = None
        self.stats = ProxyStats()
        self._rng = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self.port = port  # 0: any free port, known once started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EsFaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _start(self) -> None:
        # No total timeout: the client's own request timeout decides, as with a real server.
        self._session = ClientSession(timeout=ClientTimeout(total=None), auto_decompress=True)
        app = web.Application(client_max_size=512 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        assert self._runner is not None and self._session is not None
        await self._runner.cleanup()
        await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.headers.get("content-encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        if request.method in ("POST", "PUT") and request.path.rstrip("/").endswith("/_bulk"):
            return await self._bulk(request, body)
        status, headers, data = await self._forward(request, body)
        return web.Response(status=status, headers=headers, body=data)

    async def _forward(
        self, request: web.Request, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Accept-Encoding"] = "identity"
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as response:
            data = await response.read()
            kept = {k: v for k, v in response.headers.items() if k.lower() not in _HOP_BY_HOP}
            return response.status, kept, data

    async def _bulk(self, request: web.Request, body: bytes) -> web.StreamResponse:
        self.stats.bulk_requests += 1
        ops = split_bulk(body)
        self.stats.items_seen += len(ops)
        if self._rng.random() < self.request_share:
            self.stats.requests_rejected += 1
            return self._reject_request(request)
        rejected = [self._rng.random() < self.item_share for _ in ops]
        passed = [op for op, out in zip(ops, rejected, strict=True) if not out]
        items: list[dict[str, Any]] = []
        took, errors, headers = 0, False, self._json_headers(request)
        if passed:
            status, headers, data = await self._forward(request, join_bulk(passed))
            if status != 200:  # the real server failed the request: pass it on as it is
                return web.Response(status=status, headers=headers, body=data)
            answer = json.loads(data)
            items, took, errors = answer["items"], answer.get("took", 0), answer["errors"]
        default_index = request.match_info["tail"].split("/")[0] or None
        merged, upstream_items = [], iter(items)
        for (action, _), out in zip(ops, rejected, strict=True):
            if out:
                item = rejected_item(action, default_index)
                self.stats.items_rejected += 1
                self.stats.rejected_ids.add(str(next(iter(item.values()))["_id"]))
                merged.append(item)
            else:
                merged.append(next(upstream_items))
        payload = {"errors": errors or any(rejected), "took": took, "items": merged}
        data = json.dumps(payload).encode()
        response = web.StreamResponse(status=200, headers=headers)
        response.content_length = len(data)
        await response.prepare(request)
        await response.write(data)
        await response.write_eof()
        indexed: dict[str, int] = {}
        for item in merged:
            result = next(iter(item.values()))
            if 200 <= result.get("status", 500) < 300:
                indexed[result["_index"]] = indexed.get(result["_index"], 0) + 1
        if indexed and self.on_bulk_indexed is not None:
            self.on_bulk_indexed(indexed)
        return response

    def _json_headers(self, request: web.Request) -> dict[str, str]:
        accept = request.headers.get("Accept", "")
        mime = accept if accept.startswith("application/vnd.elasticsearch+json") else None
        return {
            "Content-Type": mime or "application/json",
            "X-Elastic-Product": "Elasticsearch",
        }

    def _reject_request(self, request: web.Request) -> web.Response:
        error = {"type": _REJECTED, "reason": _REASON}
        body = {"error": {"root_cause": [error], **error}, "status": 429}
        return web.Response(
            status=429, headers=self._json_headers(request), body=json.dumps(body).encode()
        )
