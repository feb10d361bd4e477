"""The token rule of newsflow's HTTP endpoints: parsing, comparison, the bind check."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from newsflow.core.errors import ConfigError
from newsflow.core.webauth import presented_token, require_token_beyond_loopback, token_matches

TOKEN = b"s3cret-token"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("Bearer s3cret-token", True),
        ("bearer   s3cret-token ", True),
        (_basic("anyone", "s3cret-token"), True),
        (_basic("", "s3cret-token"), True),
        ("Bearer s3cret-toke", False),
        ("Bearer ", False),
        (_basic("s3cret-token", ""), False),  # the token is the password, not the user
        ("Basic not*base64", False),
        ("s3cret-token", False),
        ("Token s3cret-token", False),
        ("", False),
    ],
)
def test_a_token_as_bearer_or_basic_password(header: str, ok: bool) -> None:
    assert token_matches(header, TOKEN) is ok


def test_basic_password_may_hold_colons() -> None:
    assert presented_token(_basic("u", "a:b")) == b"a:b"


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_needs_no_token(host: str) -> None:
    require_token_beyond_loopback(host, None, "NEWSFLOW_WEB_TOKEN", "newsflow worker")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.0.5", "worker.example"])
def test_beyond_loopback_without_token_is_refused_naming_the_setting(host: str) -> None:
    with pytest.raises(ConfigError) as info:
        require_token_beyond_loopback(host, None, "NEWSFLOW_UI_TOKEN", "newsflow ui")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"newsflow ui: listening on {host} needs a token")
    assert "NEWSFLOW_UI_TOKEN" in message
    require_token_beyond_loopback(host, SecretStr("t"), "NEWSFLOW_UI_TOKEN", "newsflow ui")
