"""One settings model for every newsflow process, read from the environment (12-factor).

Build it once in ``main()`` with :func:`load_settings`; never at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsflow.errors import ConfigError


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsflow"


class Settings(BaseSettings):
    """Every knob of newsflow; each field is read from ``NEWSFLOW_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", frozen=True, extra="ignore")

    # --- where things are ---------------------------------------------------------------
    kafka_bootstrap: str = Field("localhost:9092", description="Kafka bootstrap servers.")
    es_url: str = Field("http://localhost:9200", description="Elasticsearch URL.")
    namespace: str = Field(
        "news", description="Prefix of every topic, index and the Faust app id."
    )

    # --- credentials (never in the repository) -----------------------------------------
    es_api_key: SecretStr | None = Field(None, description="Elasticsearch API key.")
    es_username: str | None = Field(None, description="Elasticsearch user.")
    es_password: SecretStr | None = Field(None, description="Elasticsearch password.")
    es_ca_certs: Path | None = Field(None, description="CA file for Elasticsearch TLS.")
    es_ssl_fingerprint: str | None = Field(None, description="SHA-256 fingerprint of ES cert.")
    kafka_security_protocol: str = Field(
        "PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: str | None = Field(None, description="PLAIN, SCRAM-SHA-256 or -512.")
    kafka_sasl_username: str | None = Field(None, description="Kafka SASL user.")
    kafka_sasl_password: SecretStr | None = Field(None, description="Kafka SASL password.")
    kafka_ssl_cafile: Path | None = Field(None, description="CA file for Kafka TLS.")

    # --- topology -------------------------------------------------------------------------
    partitions: int = Field(4, ge=1, le=1024, description="Partitions per topic at creation.")
    replication_factor: int = Field(1, ge=1, description="Replication factor of new topics.")

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
    es_transport_port: int = Field(9300, description="ES transport port (local stack).")
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

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in {"json", "text"}:
            raise ValueError("log_format must be 'json' or 'text'")
        return value

    @property
    def kafka_port(self) -> int:
        """Port of the first bootstrap server (the local stack listens there)."""
        host_port = self.kafka_bootstrap.split(",")[0].strip()
        return int(host_port.rsplit(":", 1)[1]) if ":" in host_port else 9092

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
        field = ".".join(str(p) for p in first["loc"]) or "settings"
        env = f"NEWSFLOW_{field.upper()}"
        raise ConfigError(f"{env}: {first['msg']}") from None
