import pytest

from newsflow.core.errors import ConfigError
from newsflow.core.names import Names
from newsflow.core.settings import load_settings


def test_defaults(monkeypatch):
    for var in ("NEWSFLOW_KAFKA_BOOTSTRAP", "NEWSFLOW_ES_URL", "NEWSFLOW_NAMESPACE"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings()
    assert settings.kafka_bootstrap == "localhost:9092"
    assert settings.es_url == "http://localhost:9200"
    assert (settings.kafka_port, settings.es_port) == (9092, 9200)
    assert settings.cpu_processes >= 1


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("NEWSFLOW_NAMESPACE", "tenant_a")
    monkeypatch.setenv("NEWSFLOW_KAFKA_BOOTSTRAP", "broker:19092,other:19093")
    settings = load_settings()
    assert settings.kafka_port == 19092
    names = Names(settings.namespace)
    assert names.raw_topic == "tenant_a.raw"
    assert names.articles_index == "tenant_a-articles"
    assert names.app_id == "newsflow-tenant_a"


@pytest.mark.parametrize("bad", ["News", "a-b", "", "_x", "a.b"])
def test_bad_namespace_is_a_one_line_config_error(monkeypatch, bad):
    monkeypatch.setenv("NEWSFLOW_NAMESPACE", bad)
    with pytest.raises(ConfigError, match="NEWSFLOW_NAMESPACE"):
        load_settings()


def test_secrets_do_not_leak_into_repr(monkeypatch):
    monkeypatch.setenv("NEWSFLOW_ES_USERNAME", "elastic")  # a password needs its user
    monkeypatch.setenv("NEWSFLOW_ES_PASSWORD", "hunter2")
    assert "hunter2" not in repr(load_settings())
