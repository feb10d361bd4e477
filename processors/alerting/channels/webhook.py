"""Channel ``webhook``: POST each alert as JSON with a Slack-compatible ``text``.

Option ``url`` (required; ``--webhook URL`` is short for it). A timeout, a refused
connection or a 408/429/5xx answer is retried (``Retry-After`` honoured); another 4xx is
final. The URL is a secret (Slack's are): lists and logs show it without its path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from newsflow.core import transient
from processors.alerting.channels.base import Channel, Context, Options, Outcome


def mask_url(url: str | None) -> str:
    """A webhook URL without its path (Slack webhook paths are secrets): for logs and lists."""
    if not url:
        return "-"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path.strip("/") else url


def _check(options: Options) -> None:
    parts = urlsplit(options["url"])
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("webhook url must be an http:// or https:// URL")


async def _post(context: Context, options: Options, payload: dict[str, Any]) -> Outcome:
    try:
        response = await context.http.post(
            options["url"], json=payload, timeout=context.timeout_seconds
        )
    except httpx.HTTPError as exc:  # timeouts, refused connections, protocol errors
        return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:300])
    if response.is_success:
        return Outcome(True, response.status_code)
    return Outcome(
        False,
        response.status_code,
        f"HTTP {response.status_code}: {response.text[:200]}",
        retry_after=_seconds(response.headers.get("retry-after")),
        permanent=not transient.http_status(response.status_code),
    )


def _seconds(header: str | None) -> float | None:
    try:
        return min(float(header), 3600.0) if header else None
    except ValueError:
        return None  # an HTTP date: the backoff schedule applies


CHANNEL = Channel(
    "webhook",
    "POST each alert (JSON with a Slack-compatible text) to url",
    required_options=frozenset({"url"}),
    deliver=_post,
    check=_check,
    shown=lambda options: mask_url(options.get("url")),
)
