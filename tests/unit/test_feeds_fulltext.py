from pathlib import Path

from producers.fulltext import page_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def test_the_article_text_without_page_furniture_or_headline():
    html = (FIXTURES / "article.html").read_bytes()
    text = page_text(
        html, "http://127.0.0.1/news/ferry", "Ferry service resumes after winter storms"
    )
    assert text is not None
    assert text.startswith("The ferry between Eastwick")
    assert "lorry of supplies" in text
    assert "\n\n" in text  # paragraphs, as the pipeline's cleaner expects
    for furniture in ("Subscribe", "Most read", "Cookie settings", "All rights reserved"):
        assert furniture not in text


def test_a_thin_page_gives_nothing():
    assert page_text(b"<html><body><p>Sign in</p></body></html>", "http://x/a") is None
    assert page_text(b"", "http://x/a") is None
