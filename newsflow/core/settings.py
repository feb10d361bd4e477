"""One settings model for every newsflow process, read from the environment (12-factor).

Build it once in ``main()`` with :func:`load_settings`; never at import time.
"""

from __future__ import annotations

import os
import string
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import (
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsflow.core.errors import ConfigError

KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
# Kafka's codecs, as kafka-python and aiokafka name them ("none": uncompressed batches).
KAFKA_CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsflow"


def default_insync_replicas(replicas: int) -> int:
    """Replicas that must have a write before acks=all confirms it: all but one (at least one)."""
    return max(1, replicas - 1)


class Settings(BaseSettings):
    """Every knob of newsflow; each field is read from ``NEWSFLOW_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", frozen=True, extra="ignore")

    # --- where things are ---------------------------------------------------------------
    kafka_bootstrap: str = Field("localhost:9092", description="Kafka bootstrap servers.")
    es_url: str = Field("http://localhost:9200", description="Elasticsearch URL.")
    namespace: str = Field("news", description="Prefix of every topic, index and the Faust app id.")

    # --- credentials (never in the repository) -----------------------------------------
    es_api_key: SecretStr | None = Field(None, description="Elasticsearch API key.")
    es_username: str | None = Field(None, description="Elasticsearch user.")
    es_password: SecretStr | None = Field(None, description="Elasticsearch password.")
    es_ca_certs: FilePath | None = Field(None, description="CA file for Elasticsearch TLS.")
    es_ssl_fingerprint: str | None = Field(None, description="SHA-256 fingerprint of ES cert.")
    kafka_security_protocol: str = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: str | None = Field(None, description="PLAIN, SCRAM-SHA-256 or -512.")
    kafka_sasl_username: str | None = Field(None, description="Kafka SASL user.")
    kafka_sasl_password: SecretStr | None = Field(None, description="Kafka SASL password.")
    kafka_ssl_cafile: FilePath | None = Field(None, description="CA file for Kafka TLS.")
    kafka_compression: str = Field(
        "gzip", description="Codec of our producers' batches: none, gzip, snappy, lz4 or zstd."
    )

    # --- topology -------------------------------------------------------------------------
    partitions: int = Field(4, ge=1, le=1024, description="Partitions per topic at creation.")
    replication_factor: int = Field(1, ge=1, description="Replication factor of new topics.")
    min_insync_replicas: int | None = Field(
        None, ge=1, description="min.insync.replicas of new topics; unset: replication factor - 1."
    )

    # --- processing -----------------------------------------------------------------------
    nlp_processes: int = Field(
        0, ge=0, le=256, description="spaCy worker processes; 0 means one per core."
    )
    batch_size: int = Field(64, ge=1, le=10_000, description="Articles per processing batch.")
    # Each of the four hops waits at most this long for a batch to fill: at low rates it is
    # added latency, at high rates batches fill before it runs out.
    batch_within: float = Field(
        0.1, gt=0, le=60, description="Seconds a stage waits for a batch to fill."
    )
    max_body_chars: int = Field(
        200_000, ge=1_000, description="Longer bodies are truncated before NLP."
    )
    web_port: int = Field(6066, ge=0, le=65535, description="Worker web port (metrics, health).")
    web_host: str = Field("127.0.0.1", description="Worker web bind address.")
    web_token: SecretStr | None = Field(
        None, description="Token the worker's web server requires (but on /healthz)."
    )
    ui_token: SecretStr | None = Field(
        None, description="Token newsflow ui requires (Bearer, or Basic's password)."
    )
    stall_seconds: float = Field(
        120.0, gt=0, description="/healthz is 503 when a partition is behind this long, stuck."
    )

    # --- logging --------------------------------------------------------------------------
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: str = Field("json", description="json (structured) or text.")

    # --- local stack (newsflow stack) ---------------------------------------------------
    home: Path = Field(
        default_factory=_default_cache,
        description="Download cache, data and logs of the local stack.",
    )
    kafka_version: str = Field("4.3.1", description="Apache Kafka version of the local stack.")
    es_version: str = Field("8.19.21", description="Elasticsearch version of the local stack.")
    kafka_controller_port: int = Field(9093, description="KRaft controller port (local stack).")
    kafka_brokers: int | None = Field(
        None, ge=1, le=9, description="Brokers of the local Kafka; unset: as first started, else 1."
    )
    es_transport_port: int = Field(9300, description="ES transport port (local stack).")
    es_nodes: int | None = Field(
        None, ge=1, le=9, description="Nodes of the local ES; unset: as first started, else 1."
    )
    es_replicas: int | None = Field(
        None, ge=0, description="number_of_replicas of new indices; unset: NEWSFLOW_ES_NODES - 1."
    )
    es_heap: str = Field("512m", description="Elasticsearch heap of the local stack.")
    kafka_heap: str = Field("512m", description="Kafka heap of the local stack.")
    java_home: Path | None = Field(None, description="JDK for Kafka and ES; found when unset.")

    @field_validator("namespace")
    @classmethod
    def _namespace_is_safe(cls, value: str) -> str:
        # Index names must be lowercase and may not contain these; topic names share the rule.
        allowed = set("abcdefghijklmnopqrstuvwxyz0123456789_")
        if not value or not set(value) <= allowed or value.startswith("_"):
            raise ValueError("namespace must be lowercase letters, digits and '_' only")
        return value

    @field_validator("web_token", "ui_token")
    @classmethod
    def _blank_token_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in {"json", "text"}:
            raise ValueError("log_format must be 'json' or 'text'")
        return value

    @field_validator("kafka_compression")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value.lower() not in KAFKA_CODECS:
            raise ValueError(f"one of {', '.join(KAFKA_CODECS)}")
        return value.lower()

    @field_validator("es_url")
    @classmethod
    def _no_credentials_in_url(cls, value: str) -> str:
        # A password in the URL would be shown wherever the URL is (repr, errors, logs).
        if "@" in urlsplit(value).netloc:
            raise ValueError("credentials go in NEWSFLOW_ES_USERNAME/PASSWORD or _API_KEY")
        return value

    @field_validator("es_ssl_fingerprint")
    @classmethod
    def _sha256_fingerprint(cls, value: str | None) -> str | None:
        digits = (value or "").replace(":", "")
        if value is not None and (len(digits) != 64 or not set(digits) <= set(string.hexdigits)):
            raise ValueError("a SHA-256 fingerprint is 64 hex digits (colons allowed)")
        return value

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism")
    @classmethod
    def _known_security(cls, value: str | None, info: ValidationInfo) -> str | None:
        known = KAFKA_PROTOCOLS if info.field_name == "kafka_security_protocol" else SASL_MECHANISMS
        if value is not None and value.upper() not in known:
            raise ValueError(f"one of {', '.join(known)}")
        return value.upper() if value is not None else None

    @model_validator(mode="after")
    def _complete_credentials(self) -> Settings:
        # Half-given credentials would connect without them, silently: refuse them.
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_"):
            for name in ("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password"):
                if getattr(self, name) is None:
                    raise ValueError(f"NEWSFLOW_{name.upper()}: needed with {protocol}")
        elif self.kafka_sasl_mechanism is not None:
            raise ValueError(f"NEWSFLOW_KAFKA_SECURITY_PROTOCOL: {protocol} does not use SASL")
        if self.insync_replicas > self.replication_factor:
            raise ValueError(
                "NEWSFLOW_MIN_INSYNC_REPLICAS: more than NEWSFLOW_REPLICATION_FACTOR; no write"
                " could ever be confirmed"
            )
        if (self.es_username is None) != (self.es_password is None):
            missing = "NEWSFLOW_ES_PASSWORD" if self.es_password is None else "NEWSFLOW_ES_USERNAME"
            raise ValueError(f"{missing}: the user and the password go together")
        return self

    @property
    def kafka_port(self) -> int:
        """Port of the first bootstrap server (the local stack listens there)."""
        host_port = self.kafka_bootstrap.split(",")[0].strip()
        return int(host_port.rsplit(":", 1)[1]) if ":" in host_port else 9092

    @property
    def insync_replicas(self) -> int:
        """``min.insync.replicas`` of new topics: with acks=all, a write is confirmed once this
        many replicas have it; one broker down (of three) still takes writes."""
        return self.min_insync_replicas or default_insync_replicas(self.replication_factor)

    @property
    def index_replicas(self) -> int | None:
        """``number_of_replicas`` the index templates get; None: the templates' own (0)."""
        if self.es_replicas is not None:
            return self.es_replicas
        return self.es_nodes - 1 if self.es_nodes else None

    @property
    def es_port(self) -> int:
        """Port of the Elasticsearch URL (the local stack listens there)."""
        return urlsplit(self.es_url).port or 9200

    @property
    def cpu_processes(self) -> int:
        """Number of spaCy processes actually used."""
        return self.nlp_processes or (os.cpu_count() or 1)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a bad value is a :class:`ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule over several settings names the one to fix
            raise ConfigError(str(first.get("ctx", {}).get("error", first["msg"]))) from None
        field = ".".join(str(p) for p in first["loc"])
        env = f"NEWSFLOW_{field.upper()}"
        raise ConfigError(f"{env}: {first['msg']}") from None
