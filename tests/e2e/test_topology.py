"""Every stage of the declared topology is counted by a real worker: an article, a copy of it
and a bad message take every path, and /metrics shows each stage id."""

from __future__ import annotations

import json
import re

import pytest

from processors.worker.topology import STAGES
from tests.support import Namespace, WorkerProcess

pytestmark = pytest.mark.stack

BODY = (
    "The harbour authority of Ravenholt opened a second ferry terminal on Monday, "
    "doubling the crossings to the islands during the summer season."
)


def _counted(metrics: str, name: str) -> dict[str, float]:
    """Stage id -> the sum of ``name``'s samples for it."""
    found: dict[str, float] = {}
    for stage, value in re.findall(
        rf'^{name}\{{[^}}]*stage="([^"]+)"[^}}]*\}} (\S+)$', metrics, re.M
    ):
        found[stage] = found.get(stage, 0.0) + float(value)
    return found


def test_every_stage_of_the_topology_is_counted(
    namespace: Namespace, worker: WorkerProcess
) -> None:
    article = {"id": "topology-1", "title": "A second ferry terminal", "body": BODY}
    copy = {**article, "id": "topology-2"}  # the same text: a copy, through ``copies``
    sent = namespace.produce([json.dumps(a).encode() for a in (article, copy)] + [b"{not json"])
    namespace.settled(documents=2, dead=1, messages=sent, timeout=180)

    metrics = worker.metrics()
    read = _counted(metrics, "newsflow_messages_in_total")
    timed = _counted(metrics, "newsflow_stage_seconds_count")
    sent_on = _counted(metrics, "newsflow_messages_out_total")
    dead = _counted(metrics, "newsflow_dead_letters_total")
    for stage in (s for s in STAGES if s.build is not None):  # notify: processors.alerting
        assert read.get(stage.id, 0) > 0, f"stage {stage.id} read nothing: {read}"
        assert timed.get(stage.id, 0) > 0, f"stage {stage.id} not timed: {timed}"
    # ``alerts`` sends only what a subscription fired (none here).
    emitting = {s.id for s in STAGES if s.emits and s.id != "alerts"}
    assert emitting <= set(sent_on), sent_on
    assert dead == {"clean": 1.0}, dead
