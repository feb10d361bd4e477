"""The worker's web port: a free one when none was set, one line when the one set is taken."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsflow.core import webport
from newsflow.core.errors import ConfigError
from tests.support import VENV_BIN


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_port_not_set_moves_past_one_in_use(listening: int, tmp_path: Path) -> None:
    claimed = webport.claim("127.0.0.1", listening, explicit=False, lock_dir=tmp_path)
    try:
        assert claimed.port > listening and claimed.chosen
    finally:
        claimed.release()


def test_two_workers_claiming_at_once_get_two_ports(tmp_path: Path) -> None:
    # Neither has bound its port yet (Faust binds it seconds later): the lock tells them apart.
    first = webport.claim("127.0.0.1", 0, explicit=False, lock_dir=tmp_path)
    second = webport.claim("127.0.0.1", first.port, explicit=False, lock_dir=tmp_path)
    try:
        assert second.port != first.port
    finally:
        first.release()
        second.release()
    again = webport.claim("127.0.0.1", first.port, explicit=True, lock_dir=tmp_path)
    assert again.port == first.port and not again.chosen, "a released port is free again"
    again.release()


def test_a_port_set_and_taken_is_refused_naming_the_setting(listening: int, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NEWSFLOW_WEB_PORT / --web-port") as caught:
        webport.claim("127.0.0.1", listening, explicit=True, lock_dir=tmp_path)
    assert str(listening) in str(caught.value) and "\n" not in str(caught.value)


def test_the_port_travels_in_the_kafka_client_id() -> None:
    assert webport.web_port_of(webport.client_id(6067)) == 6067
    assert webport.web_port_of("faust-0.15.3") is None


def test_the_worker_command_refuses_a_taken_port_in_one_line(listening: int) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "newsflow"), "worker", "--web-port", str(listening)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert f"port {listening} on 127.0.0.1 is in use" in done.stderr
    assert "Traceback" not in done.stderr
