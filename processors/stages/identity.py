"""Article ids: the given ``id``, else the normalized URL, else the normalized content.

The same article sent twice must be the same Elasticsearch document, so ids are derived
deterministically, with a stable hash (never Python's salted ``hash()``).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from processors.stages.words import plain_words

_TRACKING = re.compile(r"^(utm_|mc_|fbclid$|gclid$|dclid$|msclkid$|igshid$|ref$|cmpid$)")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# In UTF-8 bytes: Elasticsearch refuses an _id over 512 bytes, and refuses it for the whole
# bulk request; alert ids add a prefix. 200 characters of emoji would be 800 bytes.
_MAX_GIVEN_ID_BYTES = 200


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def normalize_url(url: str) -> str | None:
    """A canonical form of ``url``: lowercase scheme and host, no fragment, no tracking
    parameters, sorted query, no default port, no trailing slash. ``None`` if not a URL."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in {"http", "https"} or not host:
        return None
    host = host.removeprefix("www.")
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)
    )
    path = parts.path.rstrip("/") or "/"
    # http and https copies of a page are one article.
    return urlunsplit(("https", netloc, path, urlencode(query), ""))


def normalize_content(text: str) -> str:
    """Lowercased words of ``text``, single-spaced: markup-free text to hash."""
    return " ".join(plain_words(text))


def article_id(given_id: str | None, url: str | None, clean_body: str) -> str:
    """The stable id of an article (see module docstring)."""
    if given_id and given_id.strip():
        given = given_id.strip()
        fits = len(given.encode("utf-8", "surrogatepass")) <= _MAX_GIVEN_ID_BYTES
        return given if fits else f"id-{_digest(given)}"
    if url:
        normalized = normalize_url(url)
        if normalized:
            return f"u-{_digest(normalized)}"
    return f"c-{_digest(normalize_content(clean_body))}"
