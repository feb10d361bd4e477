"""Fault 5: Elasticsearch sheds load with 429 ``es_rejected_execution_exception``.

The worker talks to Elasticsearch through :class:`EsFaultProxy`, which refuses a share of
the items of every bulk request (those items are not indexed, the others are) and a share
of whole bulk requests. The sink must retry exactly the refused items, with backoff, until
every document is in: no document lost, none written twice under two ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.faults.harness import Corpus, FaultNamespace, Worker, assert_conserved, finish, replaying
from tests.faults.proxy import EsFaultProxy

pytestmark = pytest.mark.stack


def test_bulk_items_and_requests_refused_with_429_are_retried_until_all_are_indexed_once(
    shared_ns: FaultNamespace,
    es_proxy: Callable[..., EsFaultProxy],
    workers: Callable[..., Worker],
    corpus: Corpus,
    record: Callable[[dict[str, Any]], None],
) -> None:
    ns = shared_ns
    proxy = es_proxy(ns, item_share=0.3, request_share=0.1, seed=5)
    worker = workers(ns, NEWSFLOW_ES_URL=proxy.url)
    with replaying(ns, str(corpus.path)) as producer:
        finish(producer)

    outcome = assert_conserved(ns, corpus.ids)

    stats = proxy.stats
    assert stats.items_rejected > 0 and stats.requests_rejected > 0, stats
    articles = ns.names.articles_index
    assert stats.rejected_ids & set(corpus.ids), "no article was refused: no fault applied"
    retries = worker.metric("newsflow_bulk_retries_total", index=articles)
    assert retries > 0, "the sink never retried (newsflow_bulk_retries_total is 0)"
    assert "will be retried" in worker.log_text()
    record(
        outcome.figures(
            bulk_requests=stats.bulk_requests,
            items_seen=stats.items_seen,
            items_refused=stats.items_rejected,
            requests_refused=stats.requests_rejected,
            bulk_retries_articles=retries,
        )
    )
