"""Which failures of each service are worth retrying: one set of rules per service.

Every retry loop of the project asks these; anything else is either a refusal that says
something about the request (dead-letter the message, or fail in one line) or a bug.
"""

from __future__ import annotations

import asyncio

# HTTP statuses that say "not now" rather than "not this": timeouts, throttling, a node
# restarting or overloaded (Elasticsearch answers 429 when its write queue is full).
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def elasticsearch(exc: BaseException) -> bool:
    """A request to Elasticsearch that may succeed if sent again unchanged."""
    from elastic_transport import ConnectionError, ConnectionTimeout
    from elasticsearch import ApiError

    if isinstance(exc, ConnectionError | ConnectionTimeout | asyncio.TimeoutError):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in TRANSIENT_STATUS


def kafka(exc: BaseException) -> bool:
    """A send to Kafka (aiokafka) that may succeed if sent again."""
    from aiokafka.errors import KafkaError

    return isinstance(exc, KafkaError | ConnectionError | asyncio.TimeoutError)


def http_status(status: int) -> bool:
    """An HTTP answer (a webhook's, a bulk item's) worth trying again later."""
    return status in TRANSIENT_STATUS
