"""Language detection: common languages on article-length text, None when unsure."""

from __future__ import annotations

import pytest

from processors.stages.language import detect_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "The city council approved the new budget on Tuesday after a long debate about "
            "housing, transport and the cost of repairing the old bridge over the river.",
            "en",
        ),
        (
            "Der Stadtrat hat am Dienstag nach langer Debatte den neuen Haushalt beschlossen, "
            "der mehr Geld für Wohnungen, Verkehr und die Reparatur der alten Brücke vorsieht.",
            "de",
        ),
        (
            "Le conseil municipal a adopté mardi le nouveau budget après un long débat sur le "
            "logement, les transports et la réparation du vieux pont sur la rivière.",
            "fr",
        ),
        (
            "El ayuntamiento aprobó el martes el nuevo presupuesto tras un largo debate sobre "
            "vivienda, transporte y la reparación del viejo puente sobre el río.",
            "es",
        ),
        (
            "Городской совет во вторник утвердил новый бюджет после долгих споров о жилье, "
            "транспорте и ремонте старого моста через реку.",
            "ru",
        ),
    ],
)
def test_detects_common_languages(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_short_cjk_sentence_is_long_enough() -> None:
    assert detect_language("政府宣布将在明年增加对农村学校的投资。") == "zh"


@pytest.mark.parametrize("text", ["", "   ", "OK", "12 345 678 -- 2024", "Hi there"])
def test_short_or_empty_text_is_none(text: str) -> None:
    assert detect_language(text) is None
