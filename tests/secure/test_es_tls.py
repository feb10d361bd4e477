"""newsflow through a TLS endpoint with authentication in front of the shared Elasticsearch.

nginx (tests/secure/nginx.py) checks HTTP Basic and ``Authorization: ApiKey``; the CA file,
the certificate fingerprint, the user and password and the API key settings each reach
it, and each wrong value is one line naming the setting to check.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.secure.nginx import USER, SecuredEs
from tests.support import VENV_BIN, Invoke, new_namespace

pytestmark = pytest.mark.stack


def _run(
    es: SecuredEs, namespace: str, command: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSFLOW_NAMESPACE": namespace, "NEWSFLOW_ES_URL": es.url}
    for name in ("API_KEY", "USERNAME", "PASSWORD", "CA_CERTS", "SSL_FINGERPRINT"):
        env.pop(f"NEWSFLOW_ES_{name}", None)
    env.update({f"NEWSFLOW_ES_{k.upper()}": v for k, v in settings.items()})
    return subprocess.run(
        [str(VENV_BIN / "newsflow"), command], env=env, capture_output=True, text=True, timeout=120
    )


def _good(es: SecuredEs) -> dict[str, dict[str, str]]:
    return {
        "CA file, user and password": {
            "ca_certs": str(es.ca_file),
            "username": USER,
            "password": es.password,
        },
        "CA file and API key": {"ca_certs": str(es.ca_file), "api_key": es.api_key},
        "fingerprint and API key": {"ssl_fingerprint": es.fingerprint, "api_key": es.api_key},
    }


@pytest.mark.parametrize(
    "case", ["CA file, user and password", "CA file and API key", "fingerprint and API key"]
)
def test_each_way_in_works(secure_es: SecuredEs, case: str) -> None:
    done = _run(secure_es, new_namespace("estls"), "status", **_good(secure_es)[case])
    assert done.returncode == 0, done.stderr
    assert "articles" in done.stdout
    for secret in (secure_es.password, secure_es.api_key):
        assert secret not in done.stdout + done.stderr


def test_writes_go_through_the_endpoint(secure_es: SecuredEs) -> None:
    from newsflow.cli.teardown import drop_namespace
    from newsflow.core.settings import load_settings

    namespace = new_namespace("estls")
    try:
        done = _run(secure_es, namespace, "bootstrap", **_good(secure_es)["CA file and API key"])
        assert done.returncode == 0, done.stderr
        assert f"{namespace}-articles" in done.stdout  # its index templates, written via nginx
    finally:
        drop_namespace(load_settings(namespace=namespace))  # through the shared ES directly


def _wrong(es: SecuredEs) -> dict[str, tuple[dict[str, str], str]]:
    ca = str(es.ca_file)
    return {
        "wrong password": (
            {"ca_certs": ca, "username": USER, "password": "not-it"},
            "refused the credentials (HTTP 401): check NEWSFLOW_ES_PASSWORD (user 'newsflow')",
        ),
        "wrong API key": (
            {"ca_certs": ca, "api_key": "not-it"},
            "refused the credentials (HTTP 401): check NEWSFLOW_ES_API_KEY",
        ),
        "no credentials": (
            {"ca_certs": ca},
            "refused the credentials (HTTP 401): set NEWSFLOW_ES_API_KEY, or",
        ),
        "another CA": (
            {"ca_certs": str(es.other_ca_file), "api_key": es.api_key},
            f"the certificate of {es.url} is not signed by NEWSFLOW_ES_CA_CERTS",
        ),
        "no CA": (
            {"api_key": es.api_key},
            f"the certificate of {es.url} is not signed by a CA this machine trusts",
        ),
        "wrong fingerprint": (
            {"ssl_fingerprint": "00" * 32, "api_key": es.api_key},
            f"does not match NEWSFLOW_ES_SSL_FINGERPRINT (it is {es.fingerprint})",
        ),
        "plain HTTP to the TLS port": (
            {"url": es.url.replace("https:", "http:"), "api_key": es.api_key},
            "with a page that is not Elasticsearch's: check NEWSFLOW_ES_URL",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "wrong password",
        "wrong API key",
        "no credentials",
        "another CA",
        "no CA",
        "wrong fingerprint",
        "plain HTTP to the TLS port",
    ],
)
def test_a_wrong_value_is_one_line_naming_the_setting(
    secure_es: SecuredEs, invoke: Invoke, case: str
) -> None:
    changes, expected = _wrong(secure_es)[case]
    settings = {"url": secure_es.url, **changes}
    done = invoke("status", **{f"NEWSFLOW_ES_{k.upper()}": v for k, v in settings.items()})
    assert done.returncode == 2, done
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    assert expected in line, line
    for secret in (secure_es.password, secure_es.api_key):
        assert secret not in line
