"""Start-up steps that wait out a Kafka or Elasticsearch that cannot be reached yet.

Long-running commands (``worker``, ``feeds``, ``ingest-server``, ``ui``) always wait; the
one-shot commands wait when given ``--wait`` and otherwise fail in one line. While a
long-running command waits, its port answers ``GET /healthz`` with 503 and the reason, so a
probe sees "waiting for Elasticsearch since ..." rather than a refused connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import click

from newsflow.core.bootstrap import WAIT_OPTION_HELP
from newsflow.core.retry import Waiting, until_reachable
from newsflow.core.service_errors import unreachable

log = logging.getLogger("newsflow.waiting")
T = TypeVar("T")


def wait_option(command: Callable[..., T]) -> Callable[..., T]:
    """The ``--wait`` flag of the one-shot commands."""
    return click.option("--wait", "wait", is_flag=True, help=WAIT_OPTION_HELP)(command)


def when_reachable(call: Callable[[], T], step: str, health: tuple[str, int] | None = None) -> T:
    """``call()`` (blocking), retried while a service is unreachable; its result.

    With ``health`` (host, port), ``GET /healthz`` there answers 503 with the reason
    until ``call`` succeeds; the port is free again when this returns.
    """
    return asyncio.run(_when_reachable(call, step, health))


def maybe_waiting(wait: bool, call: Callable[[], T], step: str) -> T:
    """``call()`` once (an unreachable service is the command's one-line error), or with
    ``wait``, retried until the services answer."""
    return when_reachable(call, step) if wait else call()


async def _when_reachable(call: Callable[[], T], step: str, health: tuple[str, int] | None) -> T:
    waiting = Waiting()
    async with _health_page(waiting, health):
        return await until_reachable(call, step, waiting, unreachable, logger=log)


@contextlib.asynccontextmanager
async def _health_page(waiting: Waiting, at: tuple[str, int] | None) -> AsyncIterator[None]:
    """A ``/healthz`` that answers 503 with what ``waiting`` holds, while in the block."""
    if at is None:
        yield
        return
    from aiohttp import web

    async def healthz(_: web.Request) -> web.Response:
        body = json.dumps(waiting.body())
        return web.Response(text=body, status=503, content_type="application/json")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, at[0], at[1]).start()
    try:
        yield
    finally:
        await runner.cleanup()
