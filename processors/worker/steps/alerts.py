"""Stage ``alerts``: what the sink indexed, matched against the subscriptions
(:meth:`processors.alerting.stage.AlertStage.on_indexed`, idempotent: a batch read again fires
nothing new); the alerts go to ``<ns>-alerts`` and ``<ns>.alerts`` from there."""

from __future__ import annotations

from processors.worker.adapter import Batch, Out, Step
from processors.worker.runtime import Runtime
from schemas.article import Article


def build(runtime: Runtime) -> Step:
    """The step of stage ``alerts``."""

    async def match(batch: Batch[Article]) -> Out:
        await runtime.start()
        assert runtime.alerts is not None
        await runtime.alerts.on_indexed([a for _, a in batch.items])
        return Out()

    return match
