"""Raw articles into ``<ns>.raw`` from asyncio code: a confirmed publisher and an HTTP endpoint.

``POST /articles`` takes one article (a JSON object) or a JSON array of them, validated
against :class:`schemas.raw.RawArticle`. All valid: they are published keyed by article id
and the answer, once Kafka acknowledged every one (acks=all), is 202 with their ids. Any
invalid: nothing is published and the answer is 400 with the errors of each bad item by
index, so that a client fixes and resends the batch (resending is harmless: same ids).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from kafka.errors import KafkaError
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsflow.core.errors import ConfigError, InvalidArticle, RetryableError
from newsflow.core.webauth import token_matches
from processors.stages.decode import clean_article
from schemas.raw import RawArticle

log = logging.getLogger(__name__)


class IngestSettings(BaseSettings):
    """Settings of ``newsflow ingest-server``, each read from ``NEWSFLOW_INGEST_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_INGEST_", frozen=True, extra="ignore")

    token: SecretStr | None = Field(None, description="Bearer token required when set.")
    max_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024, description="Larger bodies get 413."
    )
    host: str = Field("127.0.0.1", description="Bind address.")
    port: int = Field(8090, ge=0, le=65535, description="Bind port.")
    ack_timeout: float = Field(30.0, gt=0, le=600, description="Seconds to wait for Kafka.")

    @field_validator("token")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None


def load_ingest_settings(**overrides: Any) -> IngestSettings:
    """Read the ingest settings from the environment; a bad value is a :class:`ConfigError`."""
    try:
        return IngestSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"NEWSFLOW_INGEST_{field.upper()}: {first['msg']}") from None


# --- publishing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One record for ``<ns>.raw``: the article id (its key) and the JSON value."""

    article_id: str
    value: bytes


def encode_article(raw: RawArticle) -> Outgoing:
    """The record of a raw article, keyed by the id the worker will give it.

    Raises :class:`InvalidArticle` when the worker would reject it (blank once cleaned).
    """
    clean = clean_article(raw)
    return Outgoing(clean.id, raw.model_dump_json(exclude_none=True).encode("utf-8"))


class Publisher:
    """Sends records with a kafka-python producer and waits for Kafka's acknowledgements.

    kafka-python blocks, so the sends and the waits run in a thread, off the event loop.
    """

    def __init__(self, producer: Any, topic: str, ack_timeout: float = 30.0) -> None:
        self.producer = producer
        self.topic = topic
        self.ack_timeout = ack_timeout

    async def publish(self, records: Sequence[Outgoing]) -> None:
        """Publish ``records``; raises :class:`RetryableError` unless Kafka acked them all."""
        if records:
            await asyncio.to_thread(self._send_all, list(records))

    def _send_all(self, records: list[Outgoing]) -> None:
        try:
            futures = [
                self.producer.send(self.topic, key=r.article_id.encode(), value=r.value)
                for r in records
            ]
            for future in futures:
                future.get(timeout=self.ack_timeout)
        except KafkaError as exc:
            raise RetryableError(f"Kafka did not acknowledge: {exc}", retry_after=5.0) from exc


# --- the HTTP endpoint ---------------------------------------------------------------------


class PayloadRejected(Exception):
    """A request body that is not a batch of valid articles; ``errors`` say why, by index."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


def decode_payload(body: bytes) -> list[Outgoing]:
    """A request body (an article or an array of them) to records; raises PayloadRejected."""
    try:
        # JSON on the wire is UTF-8 (RFC 8259); json.loads would guess UTF-16/32 from bytes.
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PayloadRejected(f"body is not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise PayloadRejected(f"body is not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise PayloadRejected("body is nested too deeply") from None
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise PayloadRejected("an empty array: no articles")
    records, errors = [], []
    for index, item in enumerate(items):
        try:
            records.append(_decode_item(item))
        except PayloadRejected as exc:
            errors.append({"index": index, "errors": exc.errors})
    if errors:
        raise PayloadRejected(f"{len(errors)} of {len(items)} articles are invalid", errors)
    return records


def _decode_item(item: Any) -> Outgoing:
    if not isinstance(item, dict):
        kind = type(item).__name__
        raise PayloadRejected("", [{"loc": "", "msg": f"expected an object, got a {kind}"}])
    try:
        return encode_article(RawArticle.model_validate(item))
    except ValidationError as exc:
        details = [
            {"loc": ".".join(str(p) for p in err["loc"]), "msg": err["msg"]} for err in exc.errors()
        ]
        raise PayloadRejected("", details) from None
    except InvalidArticle as exc:
        raise PayloadRejected("", [{"loc": "body", "msg": exc.reason}]) from None


def _problem(status: int, message: str, **extra: Any) -> web.Response:
    headers = extra.pop("headers", None)
    return web.json_response({"error": message, **extra}, status=status, headers=headers)


class IngestEndpoint:
    """The request handlers; :func:`create_app` routes them."""

    def __init__(self, publisher: Publisher, settings: IngestSettings) -> None:
        self.publisher = publisher
        self.settings = settings
        self._token = settings.token.get_secret_value().encode() if settings.token else None

    def _authorized(self, request: web.Request) -> bool:
        if self._token is None:
            return True
        return token_matches(request.headers.get("Authorization", ""), self._token)

    async def post_articles(self, request: web.Request) -> web.Response:
        """``POST /articles``: 202 with ids once Kafka acked, else 400/401/413/503."""
        if not self._authorized(request):
            headers = {"WWW-Authenticate": 'Bearer realm="newsflow"'}
            return _problem(401, "a valid bearer token is required", headers=headers)
        limit = self.settings.max_body_bytes
        # Refuse early on the announced length; a chunked body is cut by aiohttp's own limit.
        if request.content_length is not None and request.content_length > limit:
            return _problem(413, f"body is {request.content_length} bytes, limit {limit}")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, f"body is over the limit of {limit} bytes")
        try:
            # Validating and cleaning a few MB of articles is CPU work: not on the event loop.
            records = await asyncio.to_thread(decode_payload, body)
        except PayloadRejected as exc:
            return _problem(400, exc.message, errors=exc.errors)
        try:
            await self.publisher.publish(records)
        except RetryableError as exc:
            log.warning("ingest: %s", exc, extra={"event": "ingest_failed"})
            retry = {"Retry-After": str(int(exc.retry_after))}
            return _problem(503, str(exc), headers=retry)
        ids = [r.article_id for r in records]
        log.info(
            "ingest: %d articles published to %s",
            len(ids),
            self.publisher.topic,
            extra={"event": "ingest", "articles": len(ids), "remote": request.remote},
        )
        return web.json_response({"ids": ids, "topic": self.publisher.topic}, status=202)

    async def healthz(self, request: web.Request) -> web.Response:
        """``GET /healthz``: liveness, without a token.

        Kafka trouble shows as 503 on ``POST``: kafka-python has no cheap and honest
        "broker reachable now" probe to answer with here.
        """
        return web.json_response({"status": "ok", "topic": self.publisher.topic})


def create_app(publisher: Publisher, settings: IngestSettings) -> web.Application:
    """The aiohttp application of the ingest endpoint."""
    endpoint = IngestEndpoint(publisher, settings)
    # aiohttp enforces the body limit itself too (bodies sent without a Content-Length).
    app = web.Application(client_max_size=settings.max_body_bytes)
    app.router.add_post("/articles", endpoint.post_articles)
    app.router.add_get("/healthz", endpoint.healthz)
    return app
