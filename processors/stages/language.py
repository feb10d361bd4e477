"""Language of an article (ISO 639-1), with lingua restricted to common news languages.

lingua's low-accuracy mode uses only its trigram models: enough for article-length text,
a fraction of the memory and time of the high-accuracy mode (figures in docs/QUALITY.md).
The detector is built on first use, once per process, never at import.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

# Common languages of news on the wire; a smaller set is faster and less often wrong.
LANGUAGES: tuple[str, ...] = (
    "ENGLISH", "GERMAN", "FRENCH", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH", "POLISH",
    "RUSSIAN", "UKRAINIAN", "TURKISH", "ARABIC", "PERSIAN", "HEBREW", "HINDI", "CHINESE",
    "JAPANESE", "KOREAN", "INDONESIAN", "VIETNAMESE", "SWEDISH", "DANISH", "BOKMAL",
    "FINNISH", "CZECH", "ROMANIAN", "HUNGARIAN", "GREEK",
)  # fmt: skip

MIN_LETTERS = 20  # shorter texts are too ambiguous to call (a CJK character counts 3)
MAX_CHARS = 1000  # the opening of an article is enough; keeps long bodies cheap
MIN_CONFIDENCE = 0.5


@cache
def _detector() -> LanguageDetector:
    from lingua import Language, LanguageDetectorBuilder

    languages = [getattr(Language, name) for name in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def _letters(text: str) -> int:
    # Han, kana and hangul carry a syllable or a word each: weigh them like three letters.
    return sum((3 if ord(ch) >= 0x3000 else 1) for ch in text if ch.isalpha())


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text`` ("en", "de", ...), or None when short or unsure.

    >>> detect_language("The central bank raised interest rates again on Thursday.")
    'en'
    >>> detect_language("ok") is None
    True
    """
    sample = text[:MAX_CHARS]
    if _letters(sample) < MIN_LETTERS:
        return None
    values = _detector().compute_language_confidence_values(sample)
    if not values or values[0].value < MIN_CONFIDENCE:
        return None
    code: str = values[0].language.iso_code_639_1.name
    return code.lower()
