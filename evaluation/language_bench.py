"""Compare language detectors on the labelled texts: ``python -m evaluation.language_bench``.

Each candidate runs in its own subprocess so that its memory (peak RSS above a bare
interpreter with the same imports) is measured alone. Candidates: lingua restricted to
``processors.stages.language.LANGUAGES`` in low- and high-accuracy mode, and py3langid
(if installed).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

from evaluation.dataset import load_articles

CANDIDATES = ("lingua-low", "lingua-high", "py3langid")


def _samples() -> list[tuple[str, str | None]]:
    import yaml

    from evaluation.dataset import HERE

    written = yaml.safe_load((HERE / "language.yaml").read_text(encoding="utf-8"))
    return [(s["text"], s["lang"]) for s in written] + [(d.text, "en") for d in load_articles()]


def _detector(name: str):  # type: ignore[no-untyped-def]
    if name.startswith("lingua"):
        from lingua import Language, LanguageDetectorBuilder

        from processors.stages import language

        langs = [getattr(Language, n) for n in language.LANGUAGES]
        builder = LanguageDetectorBuilder.from_languages(*langs)
        if name == "lingua-low":
            builder = builder.with_low_accuracy_mode()
        detector = builder.build()

        def detect(text: str) -> str | None:
            if language._letters(text) < language.MIN_LETTERS:
                return None
            values = detector.compute_language_confidence_values(text[: language.MAX_CHARS])
            if not values or values[0].value < language.MIN_CONFIDENCE:
                return None
            return str(values[0].language.iso_code_639_1.name.lower())

        return detect
    import py3langid

    from processors.stages import language

    def detect_langid(text: str) -> str | None:
        if language._letters(text) < language.MIN_LETTERS:
            return None
        code, _ = py3langid.classify(text[: language.MAX_CHARS])
        return str(code)

    return detect_langid


def _run_one(name: str) -> dict[str, float | str]:
    samples = _samples()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    detect = _detector(name)
    detect("warm up the models with a sentence of plain English text")
    build = time.perf_counter() - start
    start = time.perf_counter()
    right = sum(detect(text) == want for text, want in samples)
    per_doc = (time.perf_counter() - start) / len(samples)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "candidate": name,
        "accuracy": right / len(samples),
        "n": len(samples),
        "build_s": build,
        "ms_per_text": per_doc * 1e3,
        "rss_mb": (peak - base) / 1024,
    }


def main() -> None:
    """Run every candidate in a subprocess and print a table."""
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(_run_one(sys.argv[2])))
        return
    print(f"{'candidate':<12} {'accuracy':>9} {'build s':>8} {'ms/text':>8} {'+RSS MB':>8}")
    for name in CANDIDATES:
        proc = subprocess.run(
            [sys.executable, "-m", "evaluation.language_bench", "--one", name],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode:
            print(f"{name:<12} failed: {proc.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(proc.stdout)
        print(f"{r['candidate']:<12} {r['accuracy']:>9.3f} {r['build_s']:>8.2f} "
              f"{r['ms_per_text']:>8.2f} {r['rss_mb']:>8.0f}   ({r['n']} texts)")  # fmt: skip


if __name__ == "__main__":
    main()
