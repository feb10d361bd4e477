"""The secured Kafka, started once for the tests of this folder (about 20 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.secure.broker import SecuredKafka, secured_kafka
from tests.secure.nginx import SecuredEs, secured_es


@pytest.fixture(scope="session")
def secure_kafka() -> Iterator[SecuredKafka]:
    with secured_kafka() as kafka:
        yield kafka


@pytest.fixture(scope="session")
def secure_es(tmp_path_factory: pytest.TempPathFactory, stack: None) -> Iterator[SecuredEs]:
    with secured_es(tmp_path_factory.mktemp("es-tls")) as es:
        yield es
