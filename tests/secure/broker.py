"""A second, private Kafka 4.x broker with a SASL_SSL listener, SCRAM users and ACLs.

Listeners: ``SECURE`` (SASL_SSL, SCRAM-SHA-512, TLS from a CA made for the run) is the one
every newsflow process under test uses. ``INTERNAL`` (inter-broker) and ``CONTROLLER`` are
PLAINTEXT on 127.0.0.1 only, so that the broker and its controller need no credentials of
their own (their principal, ANONYMOUS, is a super user): that is a shortcut of this test
broker, not a deployment to copy (docs/OPERATIONS.md, "Production"). The StandardAuthorizer
denies whatever no ACL allows; SCRAM credentials are written at format time.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsflow.core.names import Names
from newsflow.core.settings import Settings, load_settings
from newsflow.stack.jdk import find_java_home
from newsflow.stack.kafka import Kafka
from newsflow.stack.layout import Layout
from newsflow.stack.process import State, spawn, start_time
from newsflow.stack.services import _wait_healthy, stop_service
from tests.faults.stack import link_downloads
from tests.secure.certs import Ca
from tests.support import free_port

MECHANISM = "SCRAM-SHA-512"
ADMIN = "admin"  # a super user: creates the ACLs
TENANT = "tenant"  # only what the ACLs of its namespace allow


class SecureKafka(Kafka):
    """The local Kafka with a SASL_SSL listener, the StandardAuthorizer and SCRAM users."""

    def __init__(
        self,
        settings: Settings,
        secure_port: int,
        keystore: Path,
        keystore_password: str,
        users: dict[str, str],
    ) -> None:
        super().__init__(settings, Layout.of(settings))
        self.secure_port, self.users = secure_port, users
        self.keystore, self.keystore_password = keystore, keystore_password

    def extra_properties(self) -> dict[str, object]:
        """Listeners, TLS, SASL and the authorizer."""
        internal, controller = self.settings.kafka_port, self.settings.kafka_controller_port
        return {
            "listeners": f"SECURE://127.0.0.1:{self.secure_port},"
            f"INTERNAL://127.0.0.1:{internal},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"SECURE://127.0.0.1:{self.secure_port},"
            f"INTERNAL://127.0.0.1:{internal},CONTROLLER://localhost:{controller}",
            "listener.security.protocol.map": "SECURE:SASL_SSL,INTERNAL:PLAINTEXT,"
            "CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "INTERNAL",
            "sasl.enabled.mechanisms": MECHANISM,
            "listener.name.secure.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": self.keystore,
            "ssl.keystore.password": self.keystore_password,
            "ssl.key.password": self.keystore_password,
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found": "false",
            "super.users": f"User:{ADMIN};User:ANONYMOUS",
        }

    def format_options(self) -> list[str]:
        """The SCRAM users, created with the storage (no running broker needed)."""
        options: list[str] = []
        for name, password in self.users.items():
            options += ["--add-scram", f"{MECHANISM}=[name={name},password={password}]"]
        return options


@dataclass(frozen=True)
class SecuredKafka:
    """What a client needs to reach the secured broker, and the admin's way in."""

    bootstrap: str
    ca_file: Path
    other_ca_file: Path  # a CA that did not sign the broker's certificate
    passwords: dict[str, str]
    plaintext_port: int  # INTERNAL: the stack's health probe only

    def env(self, namespace: str, user: str = TENANT, **changes: str) -> dict[str, str]:
        """The NEWSFLOW_* settings of a process of ``user`` in ``namespace``."""
        env = {
            "NEWSFLOW_NAMESPACE": namespace,
            "NEWSFLOW_KAFKA_BOOTSTRAP": self.bootstrap,
            "NEWSFLOW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "NEWSFLOW_KAFKA_SASL_MECHANISM": MECHANISM,
            "NEWSFLOW_KAFKA_SASL_USERNAME": user,
            "NEWSFLOW_KAFKA_SASL_PASSWORD": self.passwords[user],
            "NEWSFLOW_KAFKA_SSL_CAFILE": str(self.ca_file),
        }
        env.update(changes)
        return env

    def settings(self, namespace: str, user: str = TENANT) -> Settings:
        """Settings of ``user`` in ``namespace``."""
        overrides = {
            k.removeprefix("NEWSFLOW_").lower(): v for k, v in self.env(namespace, user).items()
        }
        return load_settings(**overrides)


def namespace_acls(names: Names, user: str) -> list[Any]:
    """The ACLs that let ``user`` run the whole pipeline of one namespace, and no other.

    Topics ``<ns>.`` (ours) and ``newsflow-<ns>-`` (Faust's changelogs and leader topic),
    both prefixed; the consumer group ``newsflow-<ns>``, literal (a prefix would also match
    the group of a namespace that starts with this one).
    """
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
    )

    principal = f"User:{user}"
    patterns = [
        ResourcePattern(ResourceType.TOPIC, f"{names.namespace}.", ACLResourcePatternType.PREFIXED),
        ResourcePattern(ResourceType.TOPIC, f"{names.app_id}-", ACLResourcePatternType.PREFIXED),
        ResourcePattern(ResourceType.GROUP, names.app_id, ACLResourcePatternType.LITERAL),
    ]
    return [
        ACL(principal, "*", ACLOperation.ALL, ACLPermissionType.ALLOW, pattern)
        for pattern in patterns
    ]


def grant_namespace(kafka: SecuredKafka, namespace: str, user: str = TENANT) -> None:
    """Create the ACLs of ``namespace`` for ``user``, as the admin."""
    from newsflow.core.clients import kafka_admin

    admin = kafka_admin(kafka.settings("acl_admin", ADMIN))
    try:
        result = admin.create_acls(namespace_acls(Names(namespace), user))
        assert not result["failed"], result["failed"]
    finally:
        admin.close()


@contextmanager
def secured_kafka() -> Iterator[SecuredKafka]:
    """Start the secured broker in a private home; stop and remove everything on exit."""
    home = Path(tempfile.mkdtemp(prefix="newsflow-secure-"))
    settings = load_settings(
        home=home,
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        kafka_controller_port=free_port(),
    )
    try:
        link_downloads(Layout.of(load_settings()).downloads, home)
        ca, other = Ca.create(home / "tls"), Ca.create(home / "tls", "other-ca")
        store_password = secrets.token_urlsafe(16)
        keystore = ca.issue("broker").pkcs12(ca, store_password)
        passwords = {ADMIN: secrets.token_urlsafe(16), TENANT: secrets.token_urlsafe(16)}
        secure_port = free_port()
        svc = SecureKafka(settings, secure_port, keystore, store_password, passwords)
        proc = spawn(svc.prepare(find_java_home(settings.java_home)))
        State(proc.pid, start_time(proc.pid), svc.version, svc.ports).save(
            svc.layout.state_file(svc.name)
        )
        _wait_healthy(svc, proc.pid, None)
        yield SecuredKafka(
            f"127.0.0.1:{secure_port}", ca.cert, other.cert, passwords, settings.kafka_port
        )
    finally:
        stop_service(settings, "kafka", grace=20)
        shutil.rmtree(home, ignore_errors=True)
