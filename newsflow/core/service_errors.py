"""One line for what Kafka or Elasticsearch answered: unreachable, refusing, untrusted.

The start-up waits (:mod:`newsflow.core.waiting`, :mod:`newsflow.core.retry`) wait out what
:func:`unreachable` names; the console script prints :func:`service_error` instead of a
traceback.
"""

from __future__ import annotations

import re
from typing import Any

from newsflow.core.errors import PipelineError


def service_error(exc: BaseException) -> str | None:
    """One line for a Kafka or Elasticsearch that is unreachable or refuses us, else None."""
    return unreachable(exc) or _refused(exc)


def _addresses() -> tuple[str, str]:
    """Where Kafka and Elasticsearch are expected (no credentials in either)."""
    from newsflow.core.settings import load_settings

    try:
        settings = load_settings()
    except PipelineError:
        return "the configured servers", "the configured URL"
    return settings.kafka_bootstrap, settings.es_url


def unreachable(exc: BaseException) -> str | None:
    """One line for a Kafka or Elasticsearch that cannot be reached (yet), else None.

    These are the errors worth waiting out: down, refusing connections, timing out, or an
    Elasticsearch answering 503 while it starts. Refused credentials are not: waiting would
    not change them.
    """
    from elastic_transport import ConnectionError as EsConnectionError
    from elastic_transport import ConnectionTimeout, TlsError
    from elasticsearch import ApiError
    from kafka import errors as kafka_errors

    kafka_at, es_at = _addresses()
    if isinstance(exc, TlsError):
        return None  # an untrusted certificate stays untrusted: not worth waiting out
    # A refusal kafka-python only retried (a wrong password, CA or protocol) is named by
    # newsflow.core.kafka_check before any client connects; what is left here is a real timeout.
    if isinstance(exc, kafka_errors.KafkaConnectionError | kafka_errors.KafkaTimeoutError):
        return f"cannot reach Kafka at {kafka_at} ({_short(exc)})"
    if isinstance(exc, EsConnectionError | ConnectionTimeout):
        return f"cannot reach Elasticsearch at {es_at} ({_short(exc)})"
    if isinstance(exc, ApiError) and exc.meta.status in (502, 503, 504):
        return f"Elasticsearch at {es_at} is not ready (HTTP {exc.meta.status})"
    return None


def _refused(exc: BaseException) -> str | None:
    """One line for a Kafka or Elasticsearch that refuses us (credentials, TLS, ACLs)."""
    from kafka import errors as kafka_errors

    from newsflow.core.settings import Settings, load_settings

    settings: Settings | None
    try:
        settings = load_settings()
    except PipelineError:
        settings = None
    kafka_at, _ = _addresses()
    if isinstance(exc, kafka_errors.SaslAuthenticationFailedError):
        return f"Kafka at {kafka_at} refused the credentials ({_short(exc)})"
    if isinstance(exc, kafka_errors.AuthorizationError):
        return kafka_denial(exc, kafka_at, settings.kafka_sasl_username if settings else None)
    return es_error(exc, settings)


def es_error(exc: BaseException, settings: Any) -> str | None:
    """One line for an Elasticsearch that is untrusted or refuses us, else None."""
    from elastic_transport import TlsError
    from elasticsearch import ApiError, AuthenticationException, AuthorizationException

    at = settings.es_url if settings is not None else "the configured URL"
    if isinstance(exc, TlsError):
        return _es_tls(str(exc), at, settings)
    if isinstance(exc, AuthenticationException):
        hint = _es_auth_hint(settings)
        return f"Elasticsearch at {at} refused the credentials (HTTP 401): {hint}"
    if isinstance(exc, AuthorizationException):
        return f"Elasticsearch at {at} does not allow this (HTTP 403)"
    if isinstance(exc, ApiError) and not isinstance(exc.body, dict):
        # Not an Elasticsearch error: a proxy's page (plain HTTP to its HTTPS port, ...).
        return (
            f"{at} answered HTTP {exc.status_code} with a page that is not Elasticsearch's: "
            "check NEWSFLOW_ES_URL (http or https, host, port)"
        )
    return None


def _es_auth_hint(settings: Any) -> str:
    if settings is None:
        return "check the NEWSFLOW_ES_* credentials"
    if settings.es_api_key is not None:
        return "check NEWSFLOW_ES_API_KEY"
    if settings.es_username is not None:
        return f"check NEWSFLOW_ES_PASSWORD (user {settings.es_username!r})"
    return "set NEWSFLOW_ES_API_KEY, or NEWSFLOW_ES_USERNAME and NEWSFLOW_ES_PASSWORD"


def _es_tls(text: str, at: str, settings: Any) -> str:
    """Which TLS check failed, and the setting behind it."""
    if "Fingerprints did not match" in text:
        got = re.search(r'got "([0-9a-fA-F]+)', text)
        seen = f" (it is {got.group(1)})" if got else ""
        return (
            f"the certificate of {at} does not match NEWSFLOW_ES_SSL_FINGERPRINT{seen}: "
            "check NEWSFLOW_ES_SSL_FINGERPRINT"
        )
    if "CERTIFICATE_VERIFY_FAILED" in text and "match" in text:  # the host name
        return f"the certificate of {at} is not for its host: check NEWSFLOW_ES_URL"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        if settings is not None and settings.es_ca_certs is not None:
            return (
                f"the certificate of {at} is not signed by NEWSFLOW_ES_CA_CERTS: "
                "check NEWSFLOW_ES_CA_CERTS"
            )
        return (
            f"the certificate of {at} is not signed by a CA this machine trusts: set "
            "NEWSFLOW_ES_CA_CERTS (or NEWSFLOW_ES_SSL_FINGERPRINT)"
        )
    return f"TLS with Elasticsearch at {at} failed ({_short(Exception(text))})"


_DENIED_KINDS = {
    "TopicAuthorizationFailedError": "topic",
    "GroupAuthorizationFailedError": "consumer group",
    "ClusterAuthorizationFailedError": "cluster",
    "TransactionalIdAuthorizationFailedError": "transactional id",
}
_AUTHORIZATION_CODES = {"29", "30", "31", "53"}  # topic, group, cluster, transactional id


def denied_resources(exc: BaseException) -> list[str]:
    """The resources an authorization error names (the request's own repr left out)."""
    text = str(exc)
    _, answered, response = text.partition("failed with response")
    if answered:  # an admin request: the results that carry an authorization error
        results = re.findall(r"name='([^']+)'[^()]*?error_code=(\d+)", response)
        return sorted({name for name, code in results if code in _AUTHORIZATION_CODES})
    found = re.findall(r"\b(?:TOPIC|GROUP)/([^\s:,)]+)", text)
    if not found:  # a client error: its arguments are the names
        found = [a for a in getattr(exc, "args", ()) if isinstance(a, str) and " " not in a]
    return sorted(set(found))


def kafka_denial(exc: BaseException, kafka_at: str, user: str | None) -> str:
    """One line naming who was denied what: the fix is an ACL, or the namespace."""
    kind = _DENIED_KINDS.get(type(exc).__name__, "resource")
    names = denied_resources(exc)
    what = f"{kind} {names[0]}" if names else f"a {kind}"
    if len(names) > 1:
        what += f" (and {len(names) - 1} more)"
    who = f"user {user!r}" if user else "this client"
    return (
        f"Kafka at {kafka_at} does not allow {who} on {what} ({type(exc).__name__}): "
        "check its ACLs (docs/OPERATIONS.md) or NEWSFLOW_NAMESPACE"
    )


def _short(exc: BaseException) -> str:
    """The gist of a client error: its errno line when it has one, else its first line."""
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] [^)\]'\"]+", text)
    if errno:
        return errno.group(0).strip()
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]
