"""The real local stack: both services healthy, and Kafka stopped and started again."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsflow.core.settings import Settings, load_settings
from newsflow.stack import ensure_up, is_healthy, start_service, status, stop_service
from newsflow.stack.layout import Layout
from newsflow.stack.process import port_in_use

pytestmark = pytest.mark.stack


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_ensure_up_gives_two_healthy_services_and_is_idempotent() -> None:
    settings = load_settings()
    ensure_up(settings)
    ensure_up(settings)  # a running stack is reused, not started twice
    rows = {row.name: row for row in status(settings)}
    assert rows["kafka"].state == "healthy", rows["kafka"]
    assert rows["elasticsearch"].state == "healthy", rows["elasticsearch"]
    assert rows["kafka"].ports["broker"] == settings.kafka_port
    assert rows["elasticsearch"].ports["http"] == settings.es_port
    assert rows["kafka"].log.is_file()


@pytest.fixture
def private_kafka(tmp_path: Path) -> Iterator[Settings]:
    """A Kafka of this test alone (own home and ports): stopping it disturbs no other test."""
    shared = Layout.of(load_settings()).downloads
    if shared.is_dir():  # hard links: no second download
        shutil.copytree(shared / "org", tmp_path / "downloads" / "org", copy_function=os.link)
    settings = load_settings(
        home=tmp_path,
        kafka_bootstrap=f"localhost:{_free_port()}",
        kafka_controller_port=_free_port(),
    )
    yield settings
    stop_service(settings, "kafka", grace=10)


def test_kafka_stops_and_starts_again_on_the_same_storage(private_kafka: Settings) -> None:
    settings = private_kafka
    start_service(settings, "kafka")
    assert is_healthy(settings, "kafka")
    meta = (Layout.of(settings).kafka / "data" / "meta.properties").read_text()

    assert stop_service(settings, "kafka")
    assert not is_healthy(settings, "kafka")
    assert not port_in_use(settings.kafka_port)

    start_service(settings, "kafka", timeout=60)
    assert is_healthy(settings, "kafka")
    assert (Layout.of(settings).kafka / "data" / "meta.properties").read_text() == meta
