"""The command line as a user meets it: help everywhere, one-line errors, no tracebacks."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import VENV_BIN

COMMANDS = ["stack", "worker", "replay", "status", "demo", "bootstrap", "reprocess"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "newsflow"), *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    done = _run(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "/no/such/path"], "does not exist"),
        (["replay", "--rate", "0", "."], "--rate"),
        (["worker", "--concurrency", "0"], "--concurrency"),
        (["nosuchcommand"], "No such command"),
    ],
)
def test_bad_arguments_get_one_clear_line(args: list[str], message: str) -> None:
    done = _run(*args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_NAMESPACE", "Bad-Name")
    done = _run("replay", ".")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "NEWSFLOW_NAMESPACE" in done.stderr
