"""A quick look at the first Kafka bootstrap server, for the errors retrying cannot fix.

kafka-python meets a wrong password, a CA file that did not sign the broker's certificate
or a client speaking the wrong protocol with a log line and a retry, until its bootstrap
gives up with ``Unable to bootstrap``: 10 s later and indistinguishable from "Kafka is
down". Before the first client of a process connects, :func:`check_kafka` opens one
connection the way the clients will (TCP, TLS, ``ApiVersions``, the SASL handshake and
authentication) and turns a refusal into a :class:`KafkaRefused` that names the cause and
the setting to check. Everything else (nothing listening, a timeout, a broker still
starting) is left to the clients, which wait out outages.

The requests are Kafka's wire protocol written by hand: ``ApiVersions`` v0,
``SaslHandshake`` v1 and ``SaslAuthenticate`` v0, whose shapes have not changed since
Kafka 1.0. No secret is logged or put in a message.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading

from newsflow.core.errors import ConfigError
from newsflow.core.settings import Settings

TIMEOUT_SECONDS = 5.0
API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE, METADATA = 18, 17, 36, 3
SASL_AUTHENTICATION_FAILED = 58
MAX_RESPONSE = 16 * 1024 * 1024  # a bigger announced size is not Kafka answering us

_checked: set[tuple[object, ...]] = set()
_lock = threading.Lock()


class KafkaRefused(ConfigError):
    """Kafka refuses this client for a reason retrying cannot fix; the message is one line."""


class _Unanswered(Exception):
    """The connection closed, or the answer was not a Kafka response."""

    def __init__(self, first_bytes: bytes = b"") -> None:
        super().__init__("no answer")
        self.first_bytes = first_bytes


def check_kafka(settings: Settings, timeout: float = TIMEOUT_SECONDS) -> None:
    """Raise :class:`KafkaRefused` when the first bootstrap server refuses us; once a process."""
    key = (
        settings.kafka_bootstrap,
        settings.kafka_security_protocol,
        settings.kafka_sasl_mechanism,
        settings.kafka_sasl_username,
        settings.kafka_sasl_password,  # SecretStr: compared, never shown
        settings.kafka_ssl_cafile,
    )
    with _lock:
        if key in _checked:
            return
    diagnose(settings, timeout)
    with _lock:
        _checked.add(key)


def diagnose(settings: Settings, timeout: float = TIMEOUT_SECONDS) -> None:
    """One connection as the clients would make it; :class:`KafkaRefused` on a refusal."""
    server = settings.kafka_bootstrap.split(",")[0].strip()
    host, _, port_text = server.rpartition(":")
    host, port = host.strip("[]") or server, int(port_text or 9092)
    protocol = settings.kafka_security_protocol
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return  # not reachable: the clients retry and report it
    try:
        if protocol in ("SSL", "SASL_SSL"):
            sock = _tls(sock, host, server, settings)  # closes the plain socket on failure
        try:
            _request(sock, API_VERSIONS, 0, b"")
        except _Unanswered as exc:
            raise _no_answer(server, settings, exc.first_bytes, host, port) from None
        if protocol.startswith("SASL_"):
            _authenticate(sock, server, settings)
        else:
            _unauthenticated_request(sock, server, settings)
    except (TimeoutError, ConnectionError, OSError):
        return  # slow or gone in the middle: not a refusal we can name
    finally:
        sock.close()


def _tls(sock: socket.socket, host: str, server: str, settings: Settings) -> ssl.SSLSocket:
    try:
        return _handshake(sock, host, settings)
    except ssl.SSLCertVerificationError as exc:
        raise _untrusted(exc, host, server, settings) from None
    except ssl.SSLError as exc:
        raise KafkaRefused(
            f"Kafka at {server} does not speak TLS on this port ({exc.reason or exc}): "
            f"check NEWSFLOW_KAFKA_SECURITY_PROTOCOL ({settings.kafka_security_protocol}) "
            "and the port in NEWSFLOW_KAFKA_BOOTSTRAP"
        ) from None


def _handshake(sock: socket.socket, host: str, settings: Settings) -> ssl.SSLSocket:
    cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
    context = ssl.create_default_context(cafile=cafile)
    try:
        return context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLError:
        sock.close()
        raise


def _untrusted(
    exc: ssl.SSLCertVerificationError, host: str, server: str, settings: Settings
) -> KafkaRefused:
    if "hostname" in (exc.verify_message or "") or "IP address mismatch" in str(exc):
        return KafkaRefused(
            f"the certificate of {server} is not for {host} ({exc.verify_message}): "
            "check NEWSFLOW_KAFKA_BOOTSTRAP"
        )
    if settings.kafka_ssl_cafile:
        signer, hint = "NEWSFLOW_KAFKA_SSL_CAFILE", "check NEWSFLOW_KAFKA_SSL_CAFILE"
    else:
        signer, hint = "a CA this machine trusts", "set NEWSFLOW_KAFKA_SSL_CAFILE"
    return KafkaRefused(
        f"the certificate of {server} is not signed by {signer} ({exc.verify_message}): {hint}"
    )


def _no_answer(
    server: str, settings: Settings, first: bytes, host: str, port: int
) -> KafkaRefused | OSError:
    """Why a listener closed on ``ApiVersions``: TLS expected, or nothing we can name."""
    protocol = settings.kafka_security_protocol
    if protocol in ("PLAINTEXT", "SASL_PLAINTEXT") and (
        first[:1] == b"\x15" or _speaks_tls(host, port)
    ):
        return KafkaRefused(
            f"Kafka at {server} expects TLS on this port: check "
            f"NEWSFLOW_KAFKA_SECURITY_PROTOCOL ({protocol}; SSL or SASL_SSL there)"
        )
    return OSError("closed without an answer")


def _speaks_tls(host: str, port: int) -> bool:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_SECONDS) as raw:
            context.wrap_socket(raw, server_hostname=host).close()
        return True
    except (OSError, ssl.SSLError):
        return False


def _authenticate(sock: socket.socket, server: str, settings: Settings) -> None:
    mechanism = settings.kafka_sasl_mechanism or ""
    user = settings.kafka_sasl_username or ""
    password = (
        settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else ""
    )
    try:
        answer = _request(sock, SASL_HANDSHAKE, 1, _string(mechanism))
    except _Unanswered:
        raise _sasl_unexpected(server, settings) from None
    error, offered = struct.unpack(">h", answer[:2])[0], _strings(answer[2:])
    if error and not offered:
        raise _sasl_unexpected(server, settings)
    if error:
        raise KafkaRefused(
            f"Kafka at {server} does not offer SASL {mechanism} (it offers "
            f"{', '.join(offered) or 'none'}): check NEWSFLOW_KAFKA_SASL_MECHANISM"
        )
    refused = KafkaRefused(
        f"Kafka at {server} refused the credentials of user {user!r} ({mechanism}): "
        "check NEWSFLOW_KAFKA_SASL_PASSWORD and NEWSFLOW_KAFKA_SASL_USERNAME"
    )
    try:
        if mechanism == "PLAIN":
            _sasl_step(sock, b"\0" + user.encode() + b"\0" + password.encode(), refused)
            return
        from kafka.net.sasl.scram import ScramClient  # kafka-python's own SCRAM

        scram = ScramClient(user, password, mechanism)
        first = _sasl_step(sock, scram.first_message(), refused)
        scram.process_server_first_message(first)
        scram.process_server_final_message(_sasl_step(sock, scram.final_message(), refused))
    except _Unanswered:
        raise refused from None  # the broker closes the connection on a failed login
    except (ValueError, KeyError):
        raise KafkaRefused(
            f"Kafka at {server} answered SASL {mechanism} with nonsense: is it Kafka?"
        ) from None


def _unauthenticated_request(sock: socket.socket, server: str, settings: Settings) -> None:
    # A SASL listener answers ApiVersions, then drops a client that skips the login.
    try:
        _request(sock, METADATA, 1, struct.pack(">i", 0))  # no topics: the brokers only
    except _Unanswered:
        protocol = settings.kafka_security_protocol
        wanted = "SASL_SSL" if protocol == "SSL" else "SASL_PLAINTEXT or SASL_SSL"
        raise KafkaRefused(
            f"Kafka at {server} wants a SASL login on this port: check "
            f"NEWSFLOW_KAFKA_SECURITY_PROTOCOL ({protocol}; {wanted} there) "
            "and the NEWSFLOW_KAFKA_SASL_* settings"
        ) from None


def _sasl_unexpected(server: str, settings: Settings) -> KafkaRefused:
    return KafkaRefused(
        f"Kafka at {server} has no SASL on this port: check NEWSFLOW_KAFKA_SECURITY_PROTOCOL "
        f"({settings.kafka_security_protocol}) and the port in NEWSFLOW_KAFKA_BOOTSTRAP"
    )


def _sasl_step(sock: socket.socket, data: bytes, refused: KafkaRefused) -> bytes:
    answer = _request(sock, SASL_AUTHENTICATE, 0, struct.pack(">i", len(data)) + data)
    error = struct.unpack(">h", answer[:2])[0]
    if error == SASL_AUTHENTICATION_FAILED:
        raise refused
    if error:
        raise KafkaRefused(f"{refused} (error {error})")
    length = struct.unpack(">h", answer[2:4])[0]
    rest = answer[4 + max(length, 0) :]
    size = struct.unpack(">i", rest[:4])[0]
    return rest[4 : 4 + size]


def _request(sock: socket.socket, api_key: int, version: int, body: bytes) -> bytes:
    """Send one request; its response body (after the correlation id)."""
    header = struct.pack(">hhi", api_key, version, 1) + _string("newsflow-check")
    message = header + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    head = _read(sock, 4)
    size = struct.unpack(">i", head)[0]
    if not 4 <= size <= MAX_RESPONSE:
        raise _Unanswered(head)
    return _read(sock, size)[4:]


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise _Unanswered(data)
        data += chunk
    return data


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def _strings(data: bytes) -> list[str]:
    count, at, found = struct.unpack(">i", data[:4])[0], 4, []
    for _ in range(max(count, 0)):
        length = struct.unpack(">h", data[at : at + 2])[0]
        found.append(data[at + 2 : at + 2 + length].decode(errors="replace"))
        at += 2 + length
    return found
