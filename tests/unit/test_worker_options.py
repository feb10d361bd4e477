"""``newsflow worker --blocking-timeout`` reaches Faust's worker (the soak run of
``benchmarks.soak_blocking`` uses it)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from processors.worker import cli


def test_blocking_timeout_reaches_the_faust_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    class FakeWorker:
        def __init__(self, app: Any, **options: Any) -> None:
            seen.update(options)

        def execute_from_commandline(self) -> None:
            seen["ran"] = True

    import faust

    import newsflow.core.bootstrap
    import processors.worker.app

    monkeypatch.setattr(faust, "Worker", FakeWorker)
    monkeypatch.setattr(newsflow.core.bootstrap, "bootstrap_namespace", lambda settings: None)
    monkeypatch.setattr(processors.worker.app, "create_app", lambda settings: (object(), None))
    result = CliRunner().invoke(cli.worker, ["--blocking-timeout", "0.5"])
    assert result.exit_code == 0, result.output
    assert seen == {**seen, "blocking_timeout": 0.5, "ran": True}


def test_blocking_timeout_must_be_positive() -> None:
    result = CliRunner().invoke(cli.worker, ["--blocking-timeout", "0"])
    assert result.exit_code == 2
    assert "--blocking-timeout" in result.output
