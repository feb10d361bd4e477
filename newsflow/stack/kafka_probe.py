"""Is a Kafka broker ready? One Metadata request (v4) over a socket, no client library.

A broker that answers with itself among the live brokers and a known controller is serving:
the KRaft quorum has a leader and the broker is registered and unfenced.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

_METADATA = 3
_VERSION = 4  # Kafka 4 serves v4..v13; v4 is the oldest, and not yet a "flexible" version
_CORRELATION_ID = 7


@dataclass(frozen=True)
class ClusterInfo:
    """What a Metadata response says about the cluster."""

    brokers: tuple[tuple[int, str, int], ...]  # (node id, host, port)
    cluster_id: str | None
    controller_id: int

    @property
    def ready(self) -> bool:
        """A live broker and an elected controller."""
        return bool(self.brokers) and self.controller_id >= 0


def metadata_request(client_id: str = "newsflow-stack") -> bytes:
    """A size-prefixed Metadata v4 request asking for no topics."""
    name = client_id.encode()
    header = struct.pack(">hhih", _METADATA, _VERSION, _CORRELATION_ID, len(name)) + name
    body = struct.pack(">ib", 0, 0)  # zero topics, allow_auto_topic_creation=false
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return int(value)

    def string(self) -> str | None:
        size = self.take(">h")
        if size < 0:
            return None
        value = self.data[self.pos : self.pos + size].decode()
        self.pos += size
        return value


def parse_metadata_response(payload: bytes) -> ClusterInfo:
    """Decode a Metadata v4 response (without its size prefix)."""
    reader = _Reader(payload)
    if reader.take(">i") != _CORRELATION_ID:
        raise ValueError("unexpected correlation id")
    reader.take(">i")  # throttle_time_ms
    brokers = []
    for _ in range(reader.take(">i")):
        node_id = reader.take(">i")
        host = reader.string() or ""
        port = reader.take(">i")
        reader.string()  # rack
        brokers.append((node_id, host, port))
    cluster_id = reader.string()
    return ClusterInfo(tuple(brokers), cluster_id, reader.take(">i"))


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def probe(host: str, port: int, timeout: float = 2.0) -> ClusterInfo | None:
    """The cluster as the broker at ``host:port`` sees it, or None when it does not answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(metadata_request())
            (size,) = struct.unpack(">i", _recv_exactly(sock, 4))
            return parse_metadata_response(_recv_exactly(sock, size))
    except (OSError, ValueError, struct.error, UnicodeDecodeError):
        return None
