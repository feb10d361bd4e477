"""The channels of alerts, registered by name: a channel is one module of this package
(see :mod:`processors.alerting.channels.base`) plus one entry of :data:`CHANNELS`.

``index`` and ``topic`` are the alert's record: every alert lands in both, whatever a
subscription names. ``webhook`` and ``log`` are deliveries, run by the notifier.
"""

from __future__ import annotations

from collections.abc import Mapping

from processors.alerting.channels import index, log, topic, webhook
from processors.alerting.channels.base import Channel, Options

CHANNELS: dict[str, Channel] = {
    c.name: c for c in (index.CHANNEL, topic.CHANNEL, webhook.CHANNEL, log.CHANNEL)
}


def register(channel: Channel) -> None:
    """Add a channel (a plugin, a test's); its name must be new."""
    if channel.name in CHANNELS:
        raise ValueError(f"channel {channel.name!r} is registered already")
    CHANNELS[channel.name] = channel


def get(name: str) -> Channel:
    """The channel called ``name``; ``ValueError`` (one line) naming the known ones if none."""
    found = CHANNELS.get(name)
    if found is None:
        raise ValueError(f"unknown channel {name!r} (channels: {', '.join(sorted(CHANNELS))})")
    return found


def validate(channels: Mapping[str, Options]) -> None:
    """Refuse (``ValueError``, one line) unknown channels and missing or unknown options."""
    for name, options in channels.items():
        get(name).validate(options)


def shown(channels: Mapping[str, Options]) -> str:
    """``webhook(https://hooks.example/…) log``: the delivery channels, secrets hidden."""
    parts = []
    for name, options in channels.items():
        channel = CHANNELS.get(name)
        if channel is None or channel.record:
            continue
        detail = channel.shown(options)
        parts.append(f"{name}({detail})" if detail else name)
    return " ".join(parts) or "-"
