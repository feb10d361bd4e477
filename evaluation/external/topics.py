"""Topics on real news: BBC News dev (out of domain) and WCEP 2019 / 2020 (held out by date).

Prints top-1 accuracy and the per-class confusion of what the worker decides (the shipped
model with its share of the taxonomy rules), the model alone and the rules alone (newsflow
before the model) side by side, and the CPU cost per article of the NLP stage with and
without the model. BBC is read for evaluation only; no figure here feeds back into training.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evaluation.external.topic_data import BBC, IPTC, WCEP, read_bbc, read_wcep
from processors.stages.analysis import Text, doc_mentions, entity_facets, ner_text
from processors.stages.entities import EntityFacets, load_aliases
from processors.stages.topic_model import TopicModel, load_topic_model
from processors.stages.topic_train import Confusion, Labelled
from processors.stages.topics import Taxonomy, TopicScore, load_taxonomy, tag_topics

REQUIRES = (BBC, WCEP, IPTC)
_Decide = Callable[[Labelled, EntityFacets | None], str | None]


@dataclass(frozen=True)
class Deciders:
    """The three ways of choosing an article's top topic that the section compares."""

    model: TopicModel
    taxonomy: Taxonomy

    def worker(self, doc: Labelled, facets: EntityFacets | None) -> str | None:
        """What the worker does: the model, with the rules' share, tags under it."""
        topics, _ = tag_topics(doc.title, doc.body, facets, self.taxonomy, self._choose(doc))
        return topics[0].slug if topics else None

    def model_only(self, doc: Labelled, facets: EntityFacets | None) -> str | None:
        """The model's best class, no rules."""
        scores = self.model.scores(doc.title, doc.body)
        return max(scores, key=lambda slug: scores[slug])

    def rules_only(self, doc: Labelled, facets: EntityFacets | None) -> str | None:
        """The taxonomy rules alone (newsflow before the model)."""
        topics, _ = tag_topics(doc.title, doc.body, facets, self.taxonomy)
        return topics[0].slug if topics else None

    def _choose(self, doc: Labelled) -> Callable[[list[TopicScore]], list[TopicScore]]:
        return lambda rules: self.model.topics(doc.title, doc.body, rules)[0]


def confusion(
    docs: Sequence[Labelled], facets: Sequence[EntityFacets | None], decide: _Decide
) -> tuple[Confusion, float]:
    """Top-1 confusion of ``decide`` and its CPU seconds per article."""
    result = Confusion()
    start = time.process_time()
    for doc, found in zip(docs, facets, strict=True):
        result.add(doc.topic, decide(doc, found) or "none")
    return result, (time.process_time() - start) / max(len(docs), 1)


def ner_facets(docs: Sequence[Labelled]) -> tuple[list[EntityFacets], float]:
    """Canonical entities of each article as the worker finds them; CPU s per article."""
    from processors.worker.nlp import load_model

    nlp, aliases = load_model(), load_aliases()
    start = time.process_time()
    texts = [Text(d.title, d.body) for d in docs]
    facets = [
        entity_facets(text, *doc_mentions(doc), aliases)
        for text, doc in zip(
            texts, nlp.pipe((ner_text(t) for t in texts), batch_size=32), strict=True
        )
    ]
    return facets, (time.process_time() - start) / max(len(docs), 1)


def section(data: Path) -> None:
    """Print the topic figures (the ``topics`` section of ``python -m evaluation.external``)."""
    model, taxonomy = load_topic_model(), load_taxonomy()
    deciders = Deciders(model, taxonomy)
    print(
        f"  model {model.version} (rules weight {model.card.rules_weight}), "
        f"taxonomy {taxonomy.version}"
    )
    bbc = read_bbc(data)
    facets, ner_s = ner_facets(bbc)
    print(f"\n  [BBC News dev, {len(bbc)} full articles, out of domain]")
    costs = {}
    for name, decide in (("worker (model + rules)", deciders.worker),
                         ("model alone", deciders.model_only),
                         ("rules alone (before)", deciders.rules_only)):  # fmt: skip
        result, costs[name] = confusion(bbc, facets, decide)
        worst = min(result.counts, key=result.recall)
        print(
            f"  {name:<24} top-1 {result.accuracy:.3f}; lowest class {worst} "
            f"{result.recall(worst):.3f}; {costs[name] * 1e3:.2f} ms CPU per article"
        )
        if name.startswith("worker"):
            print("  per class (gold: recall, errors):")
            print("\n".join(result.lines()))
    before = ner_s + costs["rules alone (before)"]
    after = ner_s + costs["worker (model + rules)"]
    print(
        f"\n  [NLP stage CPU per BBC article] NER + canonical entities {ner_s * 1e3:.1f} ms; "
        f"with rules (before) {before * 1e3:.1f} ms; with model + rules (now) "
        f"{after * 1e3:.1f} ms: {100 * (after / before - 1):+.1f} %"
    )
    wcep = list(read_wcep(data))
    for year in ("2019", "2020"):
        docs = [item.doc for item in wcep if item.date.startswith(year)]
        print(f"\n  [WCEP {year}, {len(docs)} summaries, held out of the model by date]")
        for name, decide in (("worker (model + rules)", deciders.worker),
                             ("model alone", deciders.model_only),
                             ("rules alone (before)", deciders.rules_only)):  # fmt: skip
            result, _ = confusion(docs, [None] * len(docs), decide)
            print(f"  {name:<24} top-1 {result.accuracy:.3f}")
            if name.startswith("worker"):
                print("\n".join(result.lines()))
