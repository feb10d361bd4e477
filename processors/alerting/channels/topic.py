"""Channel ``topic``: every alert is a record of ``<ns>.alerts`` (key = the alert id).

A record channel: the stage sends every alert there once it is stored and waits for
Kafka's acknowledgement; the notifier and any Kafka client read it. Naming it in a
subscription changes nothing.
"""

from __future__ import annotations

from processors.alerting.channels.base import Channel

CHANNEL = Channel("topic", "every alert is a record of <ns>.alerts (always)")
