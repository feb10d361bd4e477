"""Stage ``clean``: markup, entities, control characters and boilerplate lines out; text kept.

Pure functions. The output body is plain text, paragraphs separated by one blank line.
"""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, date, datetime

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

from newsflow.core.errors import InvalidArticle

_MARKUP = re.compile(r"<[a-zA-Z!/?][^>]*>")  # tags, comments, doctypes, <?xml ?>
# Double-escaped feeds need a pass per level of escaping; more than this is cut (see below).
_MARKUP_PASSES = 5
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
    "tr", "table", "section", "article", "blockquote", "header", "footer", "figure", "pre",
)  # fmt: skip
_DROP_TAGS = ("script", "style", "noscript", "iframe", "template", "svg", "head")
# A leading "date YYYY-MM-DD" marker (the corpus .txt convention) gives the publication date.
_DATE_MARKER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*\n?")
# Short lines that are page furniture, not news. Matched against a whole (short) line.
_BOILERPLATE = re.compile(
    r"^(read more|read also|see also|related( articles| stories)?|share (this|on|via)\b|"
    r"click here|subscribe\b|sign up\b|follow us\b|advertisement|sponsored|"
    r"(photo|image|video) ?(credit|:)|©|copyright\b|all rights reserved|"
    r"share$|tweet$|print$|email$)",
    re.IGNORECASE,
)
_BOILERPLATE_MAX_CHARS = 120
# Control characters other than newline and tab; also the Unicode line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\u200b]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def split_date_marker(text: str) -> tuple[datetime | None, str]:
    """Split a leading ``date YYYY-MM-DD`` marker off ``text``; the date is midnight UTC."""
    match = _DATE_MARKER.match(text)
    if not match:
        return None, text
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError:
        return None, text
    return datetime(day.year, day.month, day.day, tzinfo=UTC), text[match.end() :]


def strip_markup(text: str) -> str:
    """Markup to text: drop scripts and styles, keep block boundaries as paragraph breaks.

    Escaped markup (``&lt;p&gt;``, common in feeds) is markup again once unescaped, so
    passes repeat until the text stops changing; what is still tag-shaped after the last
    pass is cut out. Plain text is a fixed point: cleaning clean text changes nothing.
    """
    for _ in range(_MARKUP_PASSES):
        stripped = _markup_to_text(text)
        if stripped == text:
            return text
        text = stripped
    return _MARKUP.sub(" ", text)


def _markup_to_text(text: str) -> str:
    if not _MARKUP.search(text):
        return html.unescape(text)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # feeds: <?xml ...?> bodies
        soup = BeautifulSoup(text, "html.parser")
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return soup.get_text()


def _is_boilerplate(line: str) -> bool:
    return len(line) <= _BOILERPLATE_MAX_CHARS and bool(_BOILERPLATE.match(line))


def clean_text(text: str) -> str:
    """Plain text: no markup, no control characters, no boilerplate lines, tidy whitespace."""
    # NFC before markup too: composition can complete an entity (U+037E is ";").
    text = unicodedata.normalize("NFC", strip_markup(unicodedata.normalize("NFC", text)))
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs: list[str] = []
    current: list[str] = []
    for raw_line in text.split("\n"):
        line = _SPACES.sub(" ", raw_line).strip()
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if not _is_boilerplate(line):
            current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def clean_title(title: str | None) -> str | None:
    """A headline on one line, or ``None`` when nothing is left."""
    if title is None:
        return None
    cleaned = clean_text(title).replace("\n\n", " ").strip()
    return cleaned or None


def clean_body(body: str) -> tuple[datetime | None, str]:
    """The publication date from a leading marker (if any) and the clean body.

    Raises :class:`InvalidArticle` (``blank_body``) when no text is left.
    """
    marker_date, rest = split_date_marker(body)
    cleaned = clean_text(rest)
    if not cleaned:
        raise InvalidArticle("blank_body", "body is blank after removing markup and boilerplate")
    return marker_date, cleaned
