from pathlib import Path

import pytest

from newsflow.core.errors import ConfigError
from producers.feeds import DEFAULT_INTERVAL, config_from_urls, load_config

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_sample_config_loads():
    config = load_config(ROOT / "deploy" / "feeds.yaml")
    assert len(config.feeds) >= 2
    assert all(feed.url.startswith("https://") for feed in config.feeds)


def test_defaults_and_durations(tmp_path: Path):
    config = load_config(
        _write(
            tmp_path,
            "feeds:\n"
            "  - {name: a, url: 'http://127.0.0.1/a.xml'}\n"
            "  - {name: b, url: 'http://127.0.0.1/b.xml', interval: 15m, full_text: true}\n"
            "  - {name: c, url: 'http://127.0.0.1/c.xml', interval: 90, source: C News}\n"
            "  - {name: d, url: 'http://127.0.0.1/d.xml', interval: 1h}\n",
        )
    )
    a, b, c, d = config.feeds
    assert (a.interval, a.full_text, a.source) == (DEFAULT_INTERVAL, False, None)
    assert (b.interval, b.full_text) == (900.0, True)
    assert (c.interval, c.source) == (90.0, "C News")
    assert d.interval == 3600.0
    assert (config.concurrency, config.timeout, config.user_agent) == (4, 20.0, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("feeds:\n  - {name: a}\n", "feeds[0].url: Field required"),
        ("feeds:\n  - {name: a, url: 'ftp://x/a'}\n", "feeds[0].url: Value error, an http://"),
        ("feeds:\n  - {name: a, url: 'http://x/a', interval: soon}\n", "feeds[0].interval"),
        ("feeds:\n  - {name: a, url: 'http://x/a', interval: 0}\n", "feeds[0].interval"),
        ("feeds:\n  - {name: a, url: 'http://x/a', colour: red}\n", "feeds[0].colour"),
        ("feeds: []\n", "feeds: List should have at least 1 item"),
        (
            "feeds:\n  - {name: a, url: 'http://x/a'}\n  - {name: a, url: 'http://x/b'}\n",
            "feed names must be unique; repeated: a",
        ),
        ("feeds:\n  - {name: a, url: 'http://x/a'}\nconcurrency: 0\n", "concurrency"),
        ("- just a list\n", "expected a mapping with a 'feeds' list"),
        ("feeds: [unclosed\n", "not valid YAML at line"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_field(tmp_path: Path, text: str, expected: str):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert expected in message, message
    assert "\n" not in message


def test_a_missing_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_urls_from_the_command_line_are_named_after_host_and_path():
    config = config_from_urls(
        ["https://example.org/news/rss.xml", "http://127.0.0.1:8080/"],
        feed={"interval": "5m"},
        concurrency=2,
    )
    assert [f.name for f in config.feeds] == ["example.org/news/rss.xml", "127.0.0.1:8080"]
    assert all(f.interval == 300.0 for f in config.feeds)
    assert config.concurrency == 2


def test_a_bad_url_on_the_command_line_is_a_config_error():
    with pytest.raises(ConfigError, match="url"):
        config_from_urls(["not a url"])
