"""The local stack: real Apache Kafka and Elasticsearch as processes of this machine, no Docker.

``newsflow stack up`` on the command line; from Python (tests, other commands)::

    from newsflow.stack import ensure_up, is_healthy, start_service, stop_service
    ensure_up(settings)                      # idempotent: starts what is missing, waits for health
    stop_service(settings, "kafka")          # SIGTERM, then SIGKILL after a grace period
    start_service(settings, "kafka")         # back, healthy, same data
    is_healthy(settings, "elasticsearch")
    kill_service(settings, "kafka-2")        # SIGKILL broker 2 of a cluster (--brokers 3)

Where things live on disk: :mod:`newsflow.stack.layout`.
"""

from newsflow.stack.services import (
    SERVICES,
    ensure_up,
    fetch,
    is_healthy,
    kill_service,
    pid_of,
    start_service,
    status,
    stop_service,
)

__all__ = [
    "SERVICES",
    "ensure_up",
    "fetch",
    "is_healthy",
    "kill_service",
    "pid_of",
    "start_service",
    "status",
    "stop_service",
]
