"""Tokens on the worker's and the live page's HTTP endpoints, with the real commands.

Bound beyond loopback without a token, each command refuses to start in one line; with
one, every path needs it but ``/healthz`` (open for orchestrators' probes).
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_ui import UiServer
from tests.support import VENV_BIN, Namespace, WorkerProcess

pytestmark = pytest.mark.stack

TOKEN = "web-token-9f8e7d6c"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
BASIC = {"Authorization": "Basic " + base64.b64encode(f"me:{TOKEN}".encode()).decode()}


def _refused(command: list[str], env: dict[str, str], setting: str) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "newsflow"), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "listening on 0.0.0.0 needs a token" in lines[0] and setting in lines[0], lines


def test_beyond_loopback_without_token_both_refuse_to_start(namespace: Namespace) -> None:
    env = {**namespace.env, "NEWSFLOW_WEB_HOST": "0.0.0.0", "NEWSFLOW_WEB_TOKEN": " "}
    _refused(["worker"], env, "NEWSFLOW_WEB_TOKEN")
    _refused(["ui", "--host", "0.0.0.0"], namespace.env, "NEWSFLOW_UI_TOKEN")


@pytest.fixture
def guarded_worker(namespace: Namespace, log_dir: Path) -> Iterator[WorkerProcess]:
    namespace.env.update(NEWSFLOW_WEB_HOST="0.0.0.0", NEWSFLOW_WEB_TOKEN=TOKEN)
    worker = WorkerProcess(namespace, log_dir).start()  # waits on the open /healthz
    yield worker
    worker.stop()


def test_the_worker_wants_its_token_but_on_healthz(guarded_worker: WorkerProcess) -> None:
    url = guarded_worker.url
    assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    # Faust's own pages show table contents: they are guarded like /metrics.
    for path in ("/metrics", "/table/dedup/", "/router/", "/"):
        response = httpx.get(f"{url}{path}", timeout=10)
        assert response.status_code == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        wrong = {"Authorization": f"Bearer {TOKEN}x"}
        assert httpx.get(f"{url}{path}", headers=wrong, timeout=10).status_code == 401
    metrics = httpx.get(f"{url}/metrics", headers=BEARER, timeout=10)
    assert metrics.status_code == 200 and "newsflow_" in metrics.text
    assert httpx.get(f"{url}/metrics", headers=BASIC, timeout=10).status_code == 200
    log = guarded_worker.log_path.read_text(errors="replace")
    assert TOKEN not in log, "the token must never be logged"


def test_the_live_page_wants_its_token(namespace: Namespace, log_dir: Path) -> None:
    ui = UiServer(
        namespace,
        log_dir,
        args=["--host", "0.0.0.0"],
        env={"NEWSFLOW_UI_TOKEN": TOKEN},
        headers=BEARER,
    )
    try:
        for path in ("/", "/api/info", "/api/articles", "/api/stream", "/static/app.js"):
            response = httpx.get(f"{ui.url}{path}", timeout=10)
            assert response.status_code == 401, path
            # Basic: the browser asks for it, then sends it with every fetch and event stream.
            assert response.headers["WWW-Authenticate"] == 'Basic realm="newsflow"'
        page = httpx.get(f"{ui.url}/", headers=BASIC, timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()
        info = httpx.get(f"{ui.url}/api/info", headers=BEARER, timeout=10)
        assert info.json()["namespace"] == namespace.settings.namespace
    finally:
        ui.stop()
    assert TOKEN not in ui.log_path.read_text(errors="replace")
