"""Pid files, liveness, graceful stop, busy ports and the Kafka health probe (local sockets)."""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from newsflow.stack.kafka_probe import metadata_request, parse_metadata_response, probe
from newsflow.stack.process import (
    Launch,
    State,
    is_alive,
    port_in_use,
    spawn,
    start_time,
    terminate,
)


def test_port_in_use_sees_a_listener_and_not_a_free_port() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_in_use(port)
    assert not port_in_use(port)


def test_state_round_trips_and_a_broken_file_is_no_state(tmp_path: Path) -> None:
    path = tmp_path / "run" / "kafka.json"
    state = State(pid=42, started="123", version="4.3.1", ports={"broker": 9092})
    state.save(path)
    assert State.load(path) == state
    path.write_text("{not json")
    assert State.load(path) is None
    assert State.load(tmp_path / "missing.json") is None


def test_liveness_checks_the_start_time_against_reused_pids() -> None:
    me = os.getpid()
    assert is_alive(me)
    assert is_alive(me, start_time(me))
    assert not is_alive(me, "1")  # a pid file of another process that had our pid


def test_spawned_process_is_detached_logged_and_stopped_with_its_group(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "svc.log"
    script = "import time; print('up', flush=True); time.sleep(60)"
    proc = spawn(Launch(argv=[sys.executable, "-c", script], cwd=tmp_path, env={}, log=log))
    assert os.getpgid(proc.pid) == proc.pid  # its own session: our Ctrl-C does not reach it
    deadline = time.monotonic() + 10
    while "up" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = start_time(proc.pid)
    terminate(proc.pid, started, grace=5)
    assert not is_alive(proc.pid, started)
    assert proc.returncode == -15  # SIGTERM was enough


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(60)"
    )
    log = tmp_path / "svc.log"
    proc = spawn(Launch(argv=[sys.executable, "-c", script], cwd=tmp_path, env={}, log=log))
    while "up" not in log.read_text():
        time.sleep(0.05)
    terminate(proc.pid, grace=0.5)
    assert proc.returncode == -9


def _metadata_response(brokers: list[tuple[int, str, int]], controller: int) -> bytes:
    def string(text: str | None) -> bytes:
        if text is None:
            return struct.pack(">h", -1)
        return struct.pack(">h", len(text)) + text.encode()

    body = struct.pack(">ii", 7, 0) + struct.pack(">i", len(brokers))
    for node, host, port in brokers:
        body += struct.pack(">i", node) + string(host) + struct.pack(">i", port) + string(None)
    return body + string("cluster-1") + struct.pack(">ii", controller, 0)


def test_metadata_request_is_a_v4_request_for_no_topics() -> None:
    request = metadata_request("c")
    size, api, version, correlation = struct.unpack(">ihhi", request[:12])
    assert (size, api, version, correlation) == (len(request) - 4, 3, 4, 7)
    assert request.endswith(struct.pack(">ib", 0, 0))


def test_a_broker_with_a_controller_is_ready() -> None:
    info = parse_metadata_response(_metadata_response([(1, "localhost", 9092)], controller=1))
    assert info.brokers == ((1, "localhost", 9092),)
    assert info.cluster_id == "cluster-1"
    assert info.ready
    assert not parse_metadata_response(_metadata_response([], controller=-1)).ready


def test_probe_talks_to_a_broker_and_gives_none_when_nobody_answers() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer() -> None:
            conn, _ = listener.accept()
            with conn:
                (size,) = struct.unpack(">i", conn.recv(4))
                conn.recv(size)
                payload = _metadata_response([(1, "localhost", port)], controller=1)
                conn.sendall(struct.pack(">i", len(payload)) + payload)

        thread = threading.Thread(target=answer)
        thread.start()
        info = probe("127.0.0.1", port)
        thread.join()
    assert info is not None and info.ready
    assert probe("127.0.0.1", port, timeout=0.5) is None
