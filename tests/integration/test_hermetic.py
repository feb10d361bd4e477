"""The suite is hermetic: whatever ``NEWSFLOW_*`` the caller exported, it runs against the
stack it starts (``tests/conftest.py`` drops those settings at session start).

A sample of the suite runs in a child pytest with a hostile environment: the README's own
defaults exported (which once broke a unit test that read ``NEWSFLOW_ES_URL``), and a
"cluster elsewhere" the suite must never reach (a closed port, another namespace).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.stack

SAMPLE = [
    "tests/unit/test_compose.py::test_kibana_password_step_sets_the_builtin_user",
    "tests/unit/test_compose.py::test_import_posts_every_object_once_with_overwrite_and_xsrf",
    "tests/integration/test_ingest.py::test_an_array",
]

HOSTILE = {
    "the README's defaults": {
        "NEWSFLOW_ES_URL": "http://localhost:9200",
        "NEWSFLOW_KAFKA_BOOTSTRAP": "localhost:9092",
    },
    "a cluster elsewhere": {
        "NEWSFLOW_ES_URL": "http://127.0.0.1:9",  # discard: nothing answers there
        "NEWSFLOW_KAFKA_BOOTSTRAP": "127.0.0.1:9",
        "NEWSFLOW_NAMESPACE": "production",
        "NEWSFLOW_PARTITIONS": "7",
        "NEWSFLOW_INGEST_TOKEN": "a-token-the-open-server-test-does-not-send",
        "NEWSFLOW_LOG_LEVEL": "NOT_A_LEVEL",
    },
}


def _python(*args: str, exported: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in the repository, with ``exported`` added to this environment."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **exported},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_sample_of_the_suite_passes_whatever_newsflow_settings_are_exported(case: str) -> None:
    done = _python("-m", "pytest", "-p", "no:cacheprovider", *SAMPLE, exported=HOSTILE[case])
    assert done.returncode == 0, f"{case}:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    assert f"{len(SAMPLE)} passed" in done.stdout
    ignored = next(
        line for line in done.stdout.splitlines() if "ignored from the environment" in line
    )
    for name in HOSTILE[case]:
        assert name in ignored, ignored


def test_make_test_starts_the_stack_without_the_callers_settings() -> None:
    # As the Makefile runs `newsflow stack up`: through tests.hermetic.
    exported = {**HOSTILE["a cluster elsewhere"], "NEWSFLOW_HOME": "/tmp/nf-home"}
    done = _python("-m", "tests.hermetic", "env", exported=exported)
    assert done.returncode == 0, done.stderr
    seen = {line.split("=", 1)[0] for line in done.stdout.splitlines() if "=" in line}
    assert not seen & set(HOSTILE["a cluster elsewhere"]), seen
    assert "NEWSFLOW_HOME" in seen, "where the local stack lives is kept"
