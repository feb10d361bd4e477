"""Text normalization and word shingles for duplicate detection.

Two copies of one article differ in ways that say nothing about their content: case,
punctuation, whitespace, an ``UPDATED 07:55 —`` or ``LONDON (Reuters) -`` lead-in, a byline
or a ``Reporting by ...`` trailer. :func:`normalize_for_hash` removes those, so that the exact
hash and the MinHash signature see only the words of the story.

Shingles are hashed with a stable 64-bit hash (BLAKE2b per distinct word, then a numpy
polynomial combine over each window of words), never Python's salted ``hash()``: a signature
computed in one process must equal the one computed in any other, today and after a restart.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
import numpy.typing as npt

from processors.stages.words import plain_words

U64 = npt.NDArray[np.uint64]

# Lead-ins that wire services and live pages put before the first sentence.
_DATE_MARKER = re.compile(r"^\s*date\s+\d{4}-\d{2}-\d{2}\b\s*")
_UPDATED = re.compile(
    r"^\s*(?:updated?|update\s+\d+|breaking|corrected|exclusive)\b"  # the word
    r"(?:\s*(?:at|:))?\s*"
    r"(?:\d{1,2}(?:[:.h]\d{2})?\s*(?:[ap]\.?m\.?)?\s*(?:[a-z]{2,4}\b)?)?"  # a time, a zone
    r"\s*[—–\-:|]+\s*",
    re.IGNORECASE,
)
# "WASHINGTON (AP) —", "LONDON, March 3 (Reuters) -", "(MENAFN)".
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Z.'\-]+(?:\s+[A-Z][A-Z.'\-]+){0,3},?(?:\s+\w+\s+\d{1,2})?\s*)?"
    r"\((?:[A-Z][\w.&' -]{1,30})\)\s*[—–\-:]?\s*"
)
# A byline line: "By Jane Doe", "By Jane Doe and John Roe, Reuters", "Jane Doe | AP".
_BYLINE = re.compile(
    r"^\s*(?:by|written\s+by|words\s+by)\s+[\w.'\- ]{2,60}(?:,\s*[\w.'\- ]{2,40})?\s*$",
    re.IGNORECASE,
)
_TRAILER = re.compile(
    r"^\s*(?:\(?\s*(?:reporting|writing|editing|additional reporting)\s+by\b.*|"
    r"©.*|copyright\b.*|all rights reserved\.?)\s*$",
    re.IGNORECASE,
)

# Multiplier of the polynomial combine of word hashes (an odd 64-bit constant).
_COMBINE = np.uint64(0x9E3779B97F4A7C15)


def _strip_lead(line: str) -> str:
    """Drop date markers, ``UPDATED hh:mm —`` and dateline lead-ins from a first line."""
    previous = None
    while previous != line:
        previous = line
        line = _DATE_MARKER.sub("", line, count=1)
        line = _UPDATED.sub("", line, count=1)
        line = _DATELINE.sub("", line, count=1)
    return line


def content_lines(text: str) -> list[str]:
    """The non-blank lines of ``text`` without lead-ins, bylines and credit trailers."""
    lines = [line for line in unicodedata.normalize("NFKC", text).splitlines() if line.strip()]
    kept: list[str] = []
    for line in lines:
        if not kept:
            line = _strip_lead(line)
            if not line.strip():
                continue
        if _BYLINE.match(line) or _TRAILER.match(line):
            continue
        kept.append(line)
    return kept


def normalize_for_hash(text: str) -> str:
    """``text`` reduced to its words: NFKC, casefolded, punctuation and whitespace runs
    collapsed to one space, lead-ins (``UPDATED 07:55 —``, datelines), bylines and credit
    trailers dropped.

    >>> normalize_for_hash("UPDATED 07:55 — The  Mayor's plan.\\nBy Jane Doe")
    'the mayor s plan'
    """
    return " ".join(plain_words(" ".join(content_lines(text))))


_WORD_CACHE: dict[str, int] = {}
_WORD_CACHE_MAX = 1 << 18


def word_hash(word: str) -> int:
    """A stable 64-bit hash of one word (BLAKE2b)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def _word_hashes(words: list[str]) -> U64:
    """Hashes of ``words`` through a bounded cache: news reuses its vocabulary."""
    cache = _WORD_CACHE
    missing = [w for w in set(words) if w not in cache]
    if len(cache) + len(missing) > _WORD_CACHE_MAX:
        cache.clear()
    for word in missing:
        cache[word] = word_hash(word)
    return np.array(list(map(cache.__getitem__, words)), dtype=np.uint64)


def _mix(values: U64) -> U64:
    """The splitmix64 finalizer, vectorised: spreads every input bit over every output bit."""
    z = values ^ (values >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    mixed: U64 = z ^ (z >> np.uint64(31))
    return mixed


def shingle_hashes(normalized: str, size: int) -> U64:
    """64-bit hashes of the ``size``-word shingles of a normalized text, in text order.

    A repeated shingle repeats its hash (MinHash is indifferent to it; skipping a sort keeps
    this cheap). A text shorter than ``size`` words is one shingle; an empty text has none.
    """
    words = normalized.split()
    if not words:
        return np.empty(0, dtype=np.uint64)
    hashes = _word_hashes(words)
    width = min(size, len(words))
    count = len(words) - width + 1
    combined = hashes[:count].copy()
    for offset in range(1, width):
        combined = combined * _COMBINE + hashes[offset : offset + count]
    return _mix(combined)
