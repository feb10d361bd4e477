"""Prometheus metrics of a worker.

Label ``stage`` is a stage id of :mod:`processors.worker.topology`; the stage adapter
(:mod:`processors.worker.adapter`) counts messages in and out, seconds and dead letters of
every stage."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_IN = Counter("newsflow_messages_in", "Messages read by a stage.", ["stage"])
MESSAGES_OUT = Counter(
    "newsflow_messages_out", "Records a stage sent on, by topic.", ["stage", "topic"]
)
# What some stages decided (dedup_new, dedup_exact, ..., nlp, sink: documents indexed).
ARTICLES_OUT = Counter("newsflow_articles_out", "Articles a stage passed on.", ["stage"])
DEAD_LETTERS = Counter("newsflow_dead_letters", "Messages dead-lettered.", ["stage", "error"])
BULK_RETRIES = Counter("newsflow_bulk_retries", "Elasticsearch bulk requests retried.", ["index"])
BATCH_RETRIES = Counter("newsflow_batch_retries", "Batches retried after an error.", ["stage"])
SEND_RETRIES = Counter("newsflow_send_retries", "Kafka sends retried.", ["topic"])
STAGE_SECONDS = Histogram(
    "newsflow_stage_seconds",
    "Seconds a stage spent on one batch.",
    ["stage"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
# Set from the liveness tracker at each scrape (processors/worker/health.py): the same figures as
# /healthz, so an alert on lag and the liveness probe never disagree.
LAG = Gauge(
    "newsflow_lag",
    "Messages not yet processed in an assigned partition (end offset - position).",
    ["topic", "partition"],
)
