"""Every command under bad arguments, bad settings, unreadable files and absent services:
one clear line on stderr, a non-zero exit, no traceback, no hang. No server is needed:
the services "down" here are closed ports on this machine.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import click
import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import AuthenticationException
from kafka.errors import MessageSizeTooLargeError

from newsflow.cli import _COMMANDS, run_cli
from producers.files import Record
from producers.replay import Pacer, replay
from tests.support import SAMPLE, VENV_BIN, Invoke

KAFKA_DOWN = "127.0.0.1:1"
ES_DOWN = "http://127.0.0.1:1"
# kafka-python gives up bootstrapping after 10 s (newsflow.core.clients); the rest is start-up.
SERVICE_TIMEOUT = 30.0


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    return {**env, "NEWSFLOW_NAMESPACE": "cli_errors", **settings}


def _run(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "newsflow"), *args],
        env=_env(**settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.returncode not in (0, None), f"exit 0 for a failure; stderr: {done.stderr}"
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{done.stderr}"
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    return lines[0]


def test_a_usage_error_is_one_line_from_the_console_script() -> None:
    done = _run("replay", "--rate", "fast", ".")
    assert_one_line(done, "newsflow replay: Invalid value for '--rate'", "'newsflow replay --help'")
    assert done.returncode == 2


@pytest.mark.parametrize("command", sorted(_COMMANDS))
def test_an_unknown_option_is_one_line_for_every_command(invoke: Invoke, command: str) -> None:
    done = invoke(command, "--no-such-option")
    assert_one_line(done, "No such option", f"newsflow {command}", "--help")
    assert done.returncode == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nosuchcommand"], "No such command"),
        (["replay"], "Missing argument"),
        (["replay", "--rate", "-1", "."], "--rate"),
        (["replay", "--tag", "two words", "."], "--tag 'two words'"),
        (["replay", "--tag", "", "."], "--tag ''"),
        (["worker", "--concurrency", "0"], "--concurrency"),
        (["deadletter", "list", "--limit", "0"], "--limit"),
        (["deadletter", "requeue"], "--error KIND, --id ID or --all"),
    ],
)
def test_bad_arguments_are_one_line(invoke: Invoke, args: list[str], needle: str) -> None:
    assert_one_line(invoke(*args), needle)


@pytest.mark.parametrize(
    ("args", "variable", "value"),
    [
        (["status"], "NEWSFLOW_PARTITIONS", "many"),
        (["replay", str(SAMPLE)], "NEWSFLOW_LOG_FORMAT", "xml"),
        (["bootstrap"], "NEWSFLOW_NAMESPACE", "A-b"),
        (["worker"], "NEWSFLOW_BATCH_SIZE", "0"),
        (["deadletter", "list"], "NEWSFLOW_WEB_PORT", "99999"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    invoke: Invoke, args: list[str], variable: str, value: str
) -> None:
    assert_one_line(invoke(*args, **{variable: value}), variable)


def test_unreadable_corpus_paths_are_one_line(invoke: Invoke, tmp_path: Path) -> None:
    # We run as root, for whom chmod 000 changes nothing: a link to nothing, and folders
    # named like files, are what cannot be read here.
    (tmp_path / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    (tmp_path / "folder.jsonl").mkdir()
    inside = tmp_path / "corpus"
    inside.mkdir()
    (inside / "ok.txt").write_text("A fine article body.")
    (inside / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    env = {"NEWSFLOW_KAFKA_BOOTSTRAP": KAFKA_DOWN}  # paths are checked before connecting
    assert_one_line(invoke("replay", str(tmp_path / "gone.jsonl"), **env), "does not exist")
    assert_one_line(invoke("replay", str(tmp_path / "folder.jsonl"), **env), "folder.jsonl")
    assert_one_line(invoke("replay", str(inside), **env), "gone.txt")


def test_unreachable_kafka_is_one_line_soon_for_every_one_shot_command() -> None:
    # The long-running commands wait instead: tests/unit/test_waiting.py.
    commands = [
        ["status"],
        ["replay", "--quiet", str(SAMPLE)],
        ["bootstrap"],
    ]
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [str(VENV_BIN / "newsflow"), *args],
            env=_env(NEWSFLOW_KAFKA_BOOTSTRAP=KAFKA_DOWN),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    try:
        for args, proc in zip(commands, procs, strict=True):
            out, err = proc.communicate(timeout=SERVICE_TIMEOUT * 2)
            done = subprocess.CompletedProcess(args, proc.returncode, out, err)
            assert_one_line(done, f"cannot reach Kafka at {KAFKA_DOWN}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert time.monotonic() - started < SERVICE_TIMEOUT * 2


@pytest.mark.parametrize(
    "args", [["deadletter", "list"], ["deadletter", "requeue", "--all", "--dry-run"]]
)
def test_unreachable_elasticsearch_is_one_line_soon(invoke: Invoke, args: list[str]) -> None:
    started = time.monotonic()
    done = invoke(*args, NEWSFLOW_ES_URL=ES_DOWN)
    assert_one_line(done, f"cannot reach Elasticsearch at {ES_DOWN}")
    assert time.monotonic() - started < SERVICE_TIMEOUT


# --- in process: the error mapping of run_cli ---------------------------------------------


def _raising(exc: BaseException) -> click.Command:
    @click.command()
    def boom() -> None:
        raise exc

    return boom


def test_refused_credentials_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    meta = ApiResponseMeta(401, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "localhost", 9200))
    code = run_cli(_raising(AuthenticationException("unauthorized", meta, {})), [])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("newsflow: error: Elasticsearch at ") and err.count("\n") == 1
    assert "refused the credentials" in err


def test_a_bug_still_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        run_cli(_raising(ZeroDivisionError("a bug must be seen")), [])


class _RefusingProducer:
    """A producer that refuses a record before sending it, as kafka-python does."""

    def send(self, topic: str, key: bytes | None, value: bytes) -> object:
        raise MessageSizeTooLargeError(f"The message is {len(value)} bytes")

    def partitions_for(self, topic: str) -> set[int]:
        return {0}

    def flush(self) -> None:
        pass


def test_a_record_refused_at_send_is_a_failure_not_a_crash() -> None:
    record = Record(Path("big.txt"), 1, b"x" * 2_000_000, key=b"k")
    summary = replay(_RefusingProducer(), "t.raw", [record], pacer=Pacer(None, None))
    assert summary.sent == 0
    assert len(summary.failed) == 1 and summary.failed[0].startswith("big.txt:1: ")
    assert "2000000 bytes" in summary.failed[0]
