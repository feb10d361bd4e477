"""The suite runs against the local stack it starts, whatever ``NEWSFLOW_*`` the caller exported.

A shell pointed at a real cluster (``NEWSFLOW_ES_URL``, ``NEWSFLOW_KAFKA_BOOTSTRAP``) must not
see test namespaces created and dropped there, and no test may depend on the caller's values.
``tests/conftest.py`` drops them at session start; ``make test`` and ``make soak`` start the
stack through ``python -m tests.hermetic newsflow stack up`` for the same reason.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

# Kept: where this machine's downloads and local stack live, its JDK, and the switches of
# the tests themselves (none of them names a service to talk to).
KEPT = frozenset(
    {"NEWSFLOW_HOME", "NEWSFLOW_JAVA_HOME", "NEWSFLOW_FAULT_REPORT", "NEWSFLOW_SCREENSHOTS"}
)


def scrub(env: MutableMapping[str, str]) -> list[str]:
    """Remove every ``NEWSFLOW_*`` but :data:`KEPT` from ``env``; the names removed."""
    ignored = sorted(k for k in env if k.startswith("NEWSFLOW_") and k not in KEPT)
    for name in ignored:
        del env[name]
    return ignored


def main(argv: list[str]) -> None:
    """Run ``argv`` with the caller's NEWSFLOW_* settings removed from its environment."""
    if not argv:
        sys.exit("usage: python -m tests.hermetic COMMAND [ARG...]")
    scrub(os.environ)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
