"""The texts of notifications: one alert, or a digest of throttled ones (Slack mrkdwn; no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(alert: Mapping[str, Any]) -> str:
    title = _slack(alert.get("title") or alert.get("article_id") or "untitled")
    return f"<{alert['url']}|{title}>" if alert.get("url") else title


def alert_text(alert: Mapping[str, Any]) -> str:
    """Slack-compatible text of one alert document: link, source and first highlight."""
    source = f" ({_slack(alert['source'])})" if alert.get("source") else ""
    lines = [f"[{alert['subscription_id']}] {_link(alert)}{source}"]
    body = (alert.get("highlights") or {}).get("body") or []
    if body:
        fragment = _slack(body[0]).replace("&lt;em&gt;", "*").replace("&lt;/em&gt;", "*")
        lines.append(f"> {fragment}")
    return "\n".join(lines)


def digest_text(subscription_id: str, alerts: Sequence[Mapping[str, Any]], shown: int = 10) -> str:
    """Slack-compatible text of a digest: the alerts held back by the throttle."""
    lines = [f"[{subscription_id}] {len(alerts)} more matching articles (throttled):"]
    lines += [f"• {_link(a)}" for a in alerts[:shown]]
    if len(alerts) > shown:
        lines.append(f"… and {len(alerts) - shown} more")
    return "\n".join(lines)
