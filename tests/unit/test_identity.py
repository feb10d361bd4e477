from processors.stages.identity import article_id, normalize_url


def test_url_normalization_removes_tracking_and_noise():
    a = normalize_url("HTTPS://www.Example.com:443/news/story/?utm_source=x&b=2&a=1#top")
    b = normalize_url("http://example.com/news/story?a=1&b=2")
    assert a == b == "https://example.com/news/story?a=1&b=2"


def test_not_a_url():
    assert normalize_url("not a url") is None
    assert normalize_url("ftp://example.com/x") is None
    assert normalize_url("http://[::1") is None


def test_given_id_wins_then_url_then_content():
    assert article_id("abc", "https://x.org/1", "body") == "abc"
    by_url = article_id(None, "https://x.org/1?utm_medium=rss", "body one")
    assert by_url == article_id(None, "https://x.org/1", "another body")
    assert by_url.startswith("u-")
    by_content = article_id(None, None, "Same  text, HERE.")
    assert by_content == article_id(None, "not a url", "same text here")
    assert by_content.startswith("c-")
    assert by_content != article_id(None, None, "different text")


def test_long_given_ids_are_hashed_to_fit_elasticsearch():
    long_id = "x" * 1000
    assert len(article_id(long_id, None, "b")) < 100


def test_given_ids_are_measured_in_bytes_as_elasticsearch_does():
    emoji = "\N{GRINNING FACE}" * 200  # 200 characters, 800 bytes: ES refuses over 512
    assert article_id(emoji, None, "b").startswith("id-")
    assert article_id("é" * 100, None, "b") == "é" * 100  # 200 bytes: kept
