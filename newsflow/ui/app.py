"""The aiohttp application of ``newsflow ui``: the page, its JSON API and its event stream.

Handlers only parse the request, call :class:`~newsflow.ui.backend.Backend` and answer JSON;
the queries and the shaping of answers are pure functions in ``queries`` and ``views``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from aiohttp import web

from newsflow.core.errors import RetryableError
from newsflow.core.names import Names
from newsflow.core.settings import Settings
from newsflow.core.webauth import token_middleware
from newsflow.ui.backend import Backend
from newsflow.ui.queries import DEFAULT_SIZE, InvalidParams, parse_params
from newsflow.ui.stream import Feed, run_feed

STATIC = Path(__file__).resolve().parent / "static"

BACKEND = web.AppKey("backend", Backend)
CLOSING = web.AppKey("closing", asyncio.Event)
SETTINGS = web.AppKey("settings", Settings)

# The page loads nothing from elsewhere; the policy says so to the browser as well.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_and_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bad parameters answer 400 and an unreachable Elasticsearch 503, as JSON; every
    response carries the security headers."""
    try:
        response = await handler(request)
    except InvalidParams as exc:
        response = web.json_response({"error": str(exc)}, status=400)
    except RetryableError as exc:
        response = web.json_response({"error": str(exc)}, status=503, headers={"Retry-After": "2"})
    if not response.prepared:
        response.headers.update(SECURITY_HEADERS)
    return response


async def index(request: web.Request) -> web.FileResponse:
    """The page."""
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz``: serving (before, while Elasticsearch is awaited, 503 with why)."""
    return web.json_response({"status": "ok"})


async def info(request: web.Request) -> web.Response:
    """What the page watches: the namespace and its indices."""
    names = request.app[BACKEND].names
    return web.json_response(
        {
            "namespace": names.namespace,
            "articles_index": names.articles_index,
            "alerts_index": names.alerts_index,
        }
    )


async def articles(request: web.Request) -> web.Response:
    """``/api/articles?q=&topic=&person=&organization=&location=&source=&story=&size=&sort=``."""
    query = parse_params(request.query.items())
    return web.json_response(await request.app[BACKEND].articles(query))


async def facets(request: web.Request) -> web.Response:
    """``/api/facets`` with the same parameters: value counts among the matching articles."""
    query = parse_params(request.query.items())
    return web.json_response(await request.app[BACKEND].facets(query))


async def alerts(request: web.Request) -> web.Response:
    """``/api/alerts?size=``: the newest alerts (none, and ``exists: false``, before any)."""
    size = parse_params(request.query.items()).size if "size" in request.query else DEFAULT_SIZE
    return web.json_response(await request.app[BACKEND].alerts(size))


async def stream(request: web.Request) -> web.StreamResponse:
    """``/api/stream``: server-sent events ``articles``, ``alerts`` and ``status``."""
    feed = Feed(request.app[BACKEND], parse_params(request.query.items()))
    feed.resume(request.headers.get("Last-Event-ID"))
    response = web.StreamResponse(
        headers={
            **SECURITY_HEADERS,
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    await response.write(b"retry: 2000\n\n")

    def alive() -> bool:
        return request.transport is not None and not request.transport.is_closing()

    with contextlib.suppress(ConnectionResetError):  # the page went away
        await run_feed(feed, response.write, request.app[CLOSING], alive)
    return response


async def _elasticsearch(app: web.Application) -> AsyncIterator[None]:
    """One async Elasticsearch client for the app's lifetime (unless one was given)."""
    from newsflow.core.clients import async_es_client

    owned = BACKEND not in app
    if owned:
        settings = app[SETTINGS]
        app[BACKEND] = Backend(async_es_client(settings), Names(settings.namespace))
    yield
    if owned:
        await app[BACKEND].es.close()


async def _close_streams(app: web.Application) -> None:
    # Open event streams would otherwise hold a shutdown for its whole timeout.
    app[CLOSING].set()


def create_app(settings: Settings, backend: Backend | None = None) -> web.Application:
    """The application; ``backend`` replaces the Elasticsearch client (for tests)."""
    # The token check first: a request without it learns nothing, not even a 400.
    app = web.Application(middlewares=[token_middleware(settings.ui_token), errors_and_headers])
    app[SETTINGS] = settings
    app[CLOSING] = asyncio.Event()
    if backend is not None:
        app[BACKEND] = backend
    app.cleanup_ctx.append(_elasticsearch)
    app.on_shutdown.append(_close_streams)
    app.router.add_get("/", index)
    app.router.add_get("/api/info", info)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/articles", articles)
    app.router.add_get("/api/facets", facets)
    app.router.add_get("/api/alerts", alerts)
    app.router.add_get("/api/stream", stream)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app
