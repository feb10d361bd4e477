"""Kafka checks each batch a producer sends: an unknown codec or a bad CRC never reaches a
consumer through a produce request. (What can reach one, a batch corrupted in the broker's
storage, is tests/e2e/test_undecodable_batch.py.)

The batches are built by kafka-python's own record builder, altered the way a broken client
would: codec bits 5 (Kafka defines 0 to 4) with a CRC that matches, or a value byte changed
after the CRC was computed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from kafka.errors import KafkaError
from kafka.record.default_records import DefaultRecordBatchBuilder

from newsflow.core.clients import kafka_producer
from tests.support import Namespace

pytestmark = pytest.mark.stack

UNKNOWN_CODEC = 5


def _unknown_codec(original: Callable[..., int]) -> Callable[..., int]:
    def attributes(self: Any, *args: Any) -> int:
        return (original(self, *args) & ~0x07) | UNKNOWN_CODEC

    return attributes


def _bad_crc(original: Callable[..., bytearray]) -> Callable[..., bytearray]:
    def build(self: Any) -> bytearray:
        buffer = original(self)
        buffer[-1] ^= 0xFF  # after the CRC was written: the last byte of the last record
        return buffer

    return build


@pytest.mark.parametrize("fault", ["unknown-codec", "bad-crc"])
def test_the_broker_refuses_a_batch_it_could_not_serve_decodable(
    namespace: Namespace, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    if fault == "unknown-codec":
        original = DefaultRecordBatchBuilder._get_attributes
        monkeypatch.setattr(DefaultRecordBatchBuilder, "_get_attributes", _unknown_codec(original))
    else:
        monkeypatch.setattr(
            DefaultRecordBatchBuilder, "build", _bad_crc(DefaultRecordBatchBuilder.build)
        )
    value = json.dumps({"id": "refused", "body": "A batch the broker must refuse."}).encode()
    producer = kafka_producer(
        namespace.settings, compression_type=None, enable_idempotence=False, retries=0
    )
    try:
        future = producer.send(namespace.names.raw_topic, value=value, partition=0)
        producer.flush()
        with pytest.raises(KafkaError) as refused:
            future.get(timeout=30)
    finally:
        producer.close()
    # Kafka 4.3 answers CORRUPT_MESSAGE to a bad CRC, and UNKNOWN_SERVER_ERROR to codec
    # bits it does not know (its log: "Unknown compression type id: 5").
    expected = {"unknown-codec": "UnknownError", "bad-crc": "CorruptRecordError"}[fault]
    assert type(refused.value).__name__ == expected, repr(refused.value)
    assert namespace.raw_end_offsets() == 0, "the broker stored the batch"
