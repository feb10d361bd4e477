"""The main text of an article page (``full_text: true`` feeds), extracted by trafilatura.

Pure and CPU-bound: the poller fetches the page and runs this in a thread.
"""

from __future__ import annotations

# Shorter extractions are navigation or a paywall teaser, not the article.
MIN_CHARS = 200


def page_text(html: bytes | str, url: str, title: str | None = None) -> str | None:
    """The article text of an HTML page, paragraphs separated by blank lines; None if none.

    The headline is dropped when it opens the text, since the article carries it as title.
    """
    import trafilatura

    text = trafilatura.extract(
        html,
        url=url,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        deduplicate=True,
    )
    if not text:
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if title and lines and lines[0].casefold() == title.strip().casefold():
        lines = lines[1:]
    body = "\n\n".join(lines)
    return body if len(body) >= MIN_CHARS else None
