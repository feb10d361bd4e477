"""Starting refuses clearly when it cannot work; nothing here starts a real server."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from newsflow.core.errors import StackError
from newsflow.core.settings import Settings
from newsflow.stack import services


def test_a_port_taken_by_another_process_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = Settings(home=tmp_path, kafka_bootstrap=f"localhost:{port}")  # type: ignore[call-arg]
        with pytest.raises(
            StackError,
            match=rf"^port {port} \(Kafka broker\) is taken .* NEWSFLOW_KAFKA_BOOTSTRAP$",
        ):
            services.start_service(settings, "kafka")


def test_an_unknown_service_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="unknown service 'zookeeper'"):
        services.stop_service(Settings(home=tmp_path), "zookeeper")  # type: ignore[call-arg]


def test_stopping_what_does_not_run_is_harmless(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)  # type: ignore[call-arg]
    assert services.down(settings) == []


def test_status_of_a_fresh_home_says_stopped(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, kafka_bootstrap="localhost:1", es_url="http://localhost:1")  # type: ignore[call-arg]
    rows = services.status(settings)
    assert [(row.name, row.state, row.pid) for row in rows] == [
        ("kafka", "stopped", None),
        ("elasticsearch", "stopped", None),
    ]
    assert rows[0].log == tmp_path / "stack" / "logs" / "kafka.log"
