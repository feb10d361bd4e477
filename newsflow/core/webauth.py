"""Tokens on newsflow's HTTP endpoints (worker, live page, ingest), one rule for all.

An endpoint reachable only from this machine may go without a token; one bound beyond
the loopback interface must have one, or the command refuses to start
(:func:`require_token_beyond_loopback`). With a token set, every path but ``/healthz``
needs ``Authorization: Bearer <token>`` or HTTP Basic with the token as password (what a
browser asks for, and what Prometheus' ``basic_auth`` and ``authorization`` both send).
``/healthz`` stays open: the probes of orchestrators (Kubernetes, Nomad, a load balancer)
send no credentials, and it tells nothing but "up" and per-partition lag.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Collection

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import SecretStr

from newsflow.core.errors import ConfigError

OPEN_PATHS = frozenset({"/healthz"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_token_beyond_loopback(
    host: str, token: SecretStr | None, setting: str, command: str
) -> None:
    """Refuse (:class:`ConfigError`, one line) to listen beyond loopback without a token."""
    if token is None and not is_loopback(host):
        raise ConfigError(
            f"{command}: listening on {host} needs a token: set {setting} (or listen on 127.0.0.1)"
        )


def presented_token(authorization: str) -> bytes | None:
    """The token in an ``Authorization`` header (Bearer, or Basic's password), else None."""
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return value.encode()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        return decoded.partition(b":")[2]
    return None


def token_matches(authorization: str, token: bytes) -> bool:
    """Whether the header carries ``token`` (compared in constant time)."""
    given = presented_token(authorization)
    # Constant-time comparison: the answer time must not reveal how much matched.
    return given is not None and hmac.compare_digest(given, token)


def token_middleware(
    token: SecretStr | None, open_paths: Collection[str] = OPEN_PATHS, basic: bool = True
) -> Middleware:
    """An aiohttp middleware answering 401 to requests without ``token`` (none: all pass)."""
    secret = token.get_secret_value().encode() if token is not None else None
    challenge = 'Basic realm="newsflow"' if basic else 'Bearer realm="newsflow"'

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if secret is None or request.path in open_paths:
            return await handler(request)
        if token_matches(request.headers.get("Authorization", ""), secret):
            return await handler(request)
        return web.json_response(
            {"error": "a valid token is required"},
            status=401,
            headers={"WWW-Authenticate": challenge},
        )

    return require_token
