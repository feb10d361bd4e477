"""Channel ``log``: each alert (or digest) as one structured ``notification`` log line.

No options. Useful where a log pipeline already pages people, and to try a subscription
with the notifier's throttle and digests before pointing it at a webhook. Never fails.
"""

from __future__ import annotations

import logging
from typing import Any

from processors.alerting.channels.base import Channel, Context, Options, Outcome

log = logging.getLogger("newsflow.notify")


async def _write(context: Context, options: Options, payload: dict[str, Any]) -> Outcome:
    fields: dict[str, Any] = {
        k: payload[k] for k in ("alert_id", "subscription_id", "alert_ids") if k in payload
    }
    log.info("notification", extra={"stage": "alerts", "channel": "log", "text": payload["text"],
                                    **fields})  # fmt: skip
    return Outcome(True)


CHANNEL = Channel("log", "one structured 'notification' log line per alert", deliver=_write)
