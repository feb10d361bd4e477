"""newsflow against a real SASL_SSL Kafka with ACLs (tests/secure/broker.py), ES shared.

A tenant allowed only on its namespace runs its whole pipeline (bootstrap, a worker, a
replay to documents, status, a subscription with backfill and a live alert), DEBUG logs
on, and no secret shows anywhere; the same user is refused another namespace in one line
naming what was denied; a wrong password, CA, mechanism or protocol is one line naming
the cause and the setting, within seconds (kafka-python's bootstrap gives up after 10 s).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.secure.broker import ADMIN, TENANT, SecuredKafka, grant_namespace
from tests.support import (
    SAMPLE,
    VENV_BIN,
    Invoke,
    Namespace,
    WorkerProcess,
    new_namespace,
    wait_for,
)

pytestmark = pytest.mark.stack

# kafka-python's bootstrap gives up after 10 s; a named refusal must come well before.
REFUSAL_SECONDS = 8.0


def newsflow(
    env: dict[str, str], *args: str, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "newsflow"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_no_secret(kafka: SecuredKafka, *texts: str) -> None:
    for secret in kafka.passwords.values():
        for text in texts:
            assert secret not in text, "a Kafka password is in the output"


@pytest.fixture
def tenant(
    secure_kafka: SecuredKafka, stack: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Namespace]:
    """A namespace on the secured Kafka (and the shared ES), granted to the tenant only."""
    name = new_namespace("sec")
    grant_namespace(secure_kafka, name)
    for key, value in secure_kafka.env(name).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NEWSFLOW_LOG_LEVEL", "DEBUG")
    ns = Namespace(partitions=2, name=name)  # settings and env from the variables above
    yield ns
    ns.close()


# About a minute on the shared 2-core machine (a worker's start, spaCy, the sample corpus):
# in `make soak`, so that the secured tests of `make test` stay well under two minutes.
@pytest.mark.slow
def test_a_tenant_runs_its_whole_pipeline_and_no_secret_is_logged(
    secure_kafka: SecuredKafka, tenant: Namespace, log_dir: Path, tmp_path: Path
) -> None:
    ns, env = tenant, tenant.env
    assert newsflow(env, "bootstrap").returncode == 0
    worker = WorkerProcess(ns, log_dir).start()
    try:
        replay = newsflow(env, "replay", str(SAMPLE))
        assert replay.returncode == 0, replay.stderr
        sent = ns.raw_end_offsets()
        assert sent > 0
        # Every stage drained (two of the sample share an id: one document for both).
        assert ns.drained(sent).documents > 0
        assert ns.count(ns.names.deadletter_index) == 0
        status = newsflow(env, "status", "--json")
        assert status.returncode == 0, status.stderr
        assert str(ns.count(ns.names.articles_index)) in status.stdout
        subscribed = newsflow(env, "subscribe", "everything", "*", "--backfill")
        assert subscribed.returncode == 0, subscribed.stderr
        assert "backfill: 0 alerts" not in subscribed.stdout
        live = tmp_path / "live.jsonl"
        body = "A secured broker carried this article to the index, and its alert back."
        live.write_text(json.dumps({"id": "secured-live", "title": "Live", "body": body}) + "\n")
        assert newsflow(env, "replay", str(live)).returncode == 0
        wait_for(
            lambda: ns.es.exists(index=ns.names.alerts_index, id="everything:secured-live"),
            120,
            "the live alert",
        )
    finally:
        worker.stop()
    outputs = [replay.stdout, replay.stderr, status.stdout, status.stderr]
    outputs += [subscribed.stdout, subscribed.stderr, worker.log_path.read_text(errors="replace")]
    assert_no_secret(secure_kafka, *outputs)


def test_the_tenant_is_refused_another_namespace_naming_what(
    secure_kafka: SecuredKafka, tenant: Namespace
) -> None:
    other = new_namespace("sec")
    env = {**tenant.env, "NEWSFLOW_NAMESPACE": other}
    for command in (["bootstrap"], ["status"], ["worker"]):
        done = newsflow(env, *command)
        assert done.returncode == 2, (command, done.stderr)
        # DEBUG is on (the tenant fixture): log lines may precede the one error line.
        errors = [ln for ln in done.stderr.splitlines() if ln.startswith("newsflow")]
        assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
        line = errors[0]
        assert f"does not allow user '{TENANT}' on " in line, line
        assert f"{other}." in line or f"newsflow-{other}" in line, line
        assert_no_secret(secure_kafka, done.stdout, done.stderr)


def _refusals(kafka: SecuredKafka) -> dict[str, tuple[dict[str, str], str]]:
    no_sasl = {
        "NEWSFLOW_KAFKA_SASL_MECHANISM": "",
        "NEWSFLOW_KAFKA_SASL_USERNAME": "",
        "NEWSFLOW_KAFKA_SASL_PASSWORD": "",
    }
    return {
        "wrong password": (
            {"NEWSFLOW_KAFKA_SASL_PASSWORD": "not-the-password"},
            f"refused the credentials of user '{TENANT}' (SCRAM-SHA-512): "
            "check NEWSFLOW_KAFKA_SASL_PASSWORD",
        ),
        "unknown user": (
            {"NEWSFLOW_KAFKA_SASL_USERNAME": "nobody"},
            "refused the credentials of user 'nobody'",
        ),
        "unknown CA": (
            {"NEWSFLOW_KAFKA_SSL_CAFILE": str(kafka.other_ca_file)},
            f"the certificate of {kafka.bootstrap} is not signed by NEWSFLOW_KAFKA_SSL_CAFILE",
        ),
        "no CA": (
            {"NEWSFLOW_KAFKA_SSL_CAFILE": ""},
            f"the certificate of {kafka.bootstrap} is not signed by a CA this machine trusts",
        ),
        "wrong mechanism": (
            {"NEWSFLOW_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"},
            "does not offer SASL SCRAM-SHA-256 (it offers SCRAM-SHA-512)",
        ),
        "plaintext client": (
            {"NEWSFLOW_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT", **no_sasl},
            f"Kafka at {kafka.bootstrap} expects TLS on this port: "
            "check NEWSFLOW_KAFKA_SECURITY_PROTOCOL",
        ),
        "TLS without SASL": (
            {"NEWSFLOW_KAFKA_SECURITY_PROTOCOL": "SSL", **no_sasl},
            "wants a SASL login on this port: check NEWSFLOW_KAFKA_SECURITY_PROTOCOL",
        ),
        "TLS client, plaintext port": (
            {"NEWSFLOW_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka.plaintext_port}"},
            "does not speak TLS on this port",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "wrong password",
        "unknown user",
        "unknown CA",
        "no CA",
        "wrong mechanism",
        "plaintext client",
        "TLS without SASL",
        "TLS client, plaintext port",
    ],
)
def test_a_refusal_is_one_line_naming_its_cause_within_seconds(
    secure_kafka: SecuredKafka, invoke: Invoke, case: str
) -> None:
    changes, expected = _refusals(secure_kafka)[case]
    settings = {**secure_kafka.env("secrefused"), "NEWSFLOW_LOG_LEVEL": "DEBUG", **changes}
    settings = {k: v for k, v in settings.items() if v}  # blank: unset
    started = time.monotonic()
    done = invoke("status", **settings)  # run_cli in this process, as the console script
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert expected in line, line
    assert elapsed < REFUSAL_SECONDS, f"{case}: {elapsed:.1f}s before: {line}"
    assert_no_secret(secure_kafka, done.stdout, done.stderr)
    assert ADMIN not in line
