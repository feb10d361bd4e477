"""Fixtures for tests on the real stack (Kafka and Elasticsearch started by the project)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.database import DirectoryBasedExampleDatabase

from tests.hermetic import scrub
from tests.support import SEEDS, Invoke, Namespace, WorkerProcess

# Property tests: "default" keeps `make test` quick; "long" (HYPOTHESIS_PROFILE=long, used
# by `make soak`) generates over 10,000 cases across the suite. No deadline: the machine is
# shared, and a slow example is not a wrong one. Failing examples are kept out of the tree.
_HYPOTHESIS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "database": DirectoryBasedExampleDatabase(
        Path(__file__).resolve().parents[1] / ".pytest_cache" / "hypothesis"
    ),
}
hypothesis_settings.register_profile("default", max_examples=200, **_HYPOTHESIS)
hypothesis_settings.register_profile("long", max_examples=2_000, **_HYPOTHESIS)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


IGNORED: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Drop the caller's NEWSFLOW_* settings before any test (or test module) reads them."""
    IGNORED.extend(scrub(os.environ))


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say which settings were ignored, so nobody wonders why the suite did not use them."""
    if not IGNORED:
        return None
    names = ", ".join(IGNORED)
    return f"newsflow: ignored from the environment (the suite runs on its own stack): {names}"


@pytest.fixture(scope="session")
def stack() -> None:
    """The local Kafka and Elasticsearch, started once per session if not running."""
    from newsflow.core.settings import load_settings
    from newsflow.stack import ensure_up

    ensure_up(load_settings())


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture
def namespace(stack: None) -> Iterator[Namespace]:
    """A fresh namespace (topics, indices, consumer group) for one test."""
    ns = Namespace()
    yield ns
    ns.close()


@pytest.fixture
def worker(namespace: Namespace, log_dir: Path) -> Iterator[WorkerProcess]:
    """A running ``newsflow worker`` in the test's namespace."""
    proc = WorkerProcess(namespace, log_dir).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def seeds() -> Path:
    """The five real seed articles, which sit beside the repository (never copied into it)."""
    if not any(SEEDS.glob("*.txt")):
        pytest.skip(f"the seed articles are not at {SEEDS} (CI has them beside the repository)")
    return SEEDS


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Invoke:
    """Run ``newsflow ARGS`` in this process, as ``main`` does, with only these settings."""

    from newsflow.cli import cli, run_cli

    def run(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
        for name in [k for k in os.environ if k.startswith("NEWSFLOW_")]:
            monkeypatch.delenv(name)
        for name, value in {"NEWSFLOW_NAMESPACE": "cli_errors", **settings}.items():
            monkeypatch.setenv(name, value)
        code = run_cli(cli, list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run
