"""Channel ``index``: every alert is a document of ``<ns>-alerts`` (id = the alert id).

A record channel: the stage writes it for every alert, with create semantics, before
anything else (``processors.alerting.stage``); its ``delivery`` object is where the
delivery channels record their status. Naming it in a subscription changes nothing.
"""

from __future__ import annotations

from processors.alerting.channels.base import Channel

CHANNEL = Channel("index", "every alert is a document of <ns>-alerts (always)")
