"""Entity facets on real news (CoNLL++ dev): ``python -m evaluation.external.entities``.

Reads ``ner/conllpp_dev.txt`` under the data folder (default ``../shared/data`` beside the
repository; research-only Reuters text, never copied into the repository), runs spaCy with
only its NER component once, and scores, per facet and micro-averaged, two systems on the
same spans:

- **raw spaCy**: the spans as they are, grouped by label;
- **newsflow**: :func:`processors.stages.analysis.entity_facets`, what the worker's spaCy processes
  store (canonical entities, with the dateline's places).

Label mapping, the same for both: PERSON -> persons, ORG -> organizations, GPE and LOC ->
locations (the pipeline's facets; FAC, NORP, EVENT, PRODUCT are in no facet). Gold: PER,
ORG, LOC spans; MISC has no facet.

Name matching, the same for both: per document and facet, over distinct names. A name's key
is its alias-table canonical name when listed ("U.S." and "United States" are one), case-
folded, without dots, possessives, a leading "the" and hyphens, as a set of words. A
predicted name is right when its key and a gold name's key of the same facet and document
are one a subset of the other (a gold "Clinton" and a facet "Bill Clinton" are the same
person), or when one is a single word that spells the initials of the other's capitalized
words (a gold "BBC" and a facet "British Broadcasting Corporation"). Precision: right
predicted names / predicted names; recall: gold names matched by some predicted name / gold
names.

``--ablation`` scores newsflow again with each rule of :data:`processors.stages.entities.RULES`
switched off, one at a time.
"""

from __future__ import annotations

import argparse
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.dataset import DEFAULT_SEEDS, FACETS, REPO
from evaluation.quality import raw_facets
from processors.stages.aliases import AliasTable, load_aliases
from processors.stages.analysis import Text, doc_mentions, entity_facets, load_analyzer, ner_text
from processors.stages.cues import Context
from processors.stages.entities import RULES, EntityFacets, Mention
from processors.stages.spans import clean_span

DEFAULT_DATA = REPO.parent / "shared" / "data"
CONLL = Path("ner") / "conllpp_dev.txt"
SAMPLE = REPO / "corpus" / "sample"
GOLD_FACETS = {"PER": "persons", "ORG": "organizations", "LOC": "locations"}
# CoNLL tokens that attach to the previous one when the text is rebuilt.
_NO_SPACE_BEFORE = frozenset({",", ".", ":", ";", "!", "?", ")", "%", "'s", "'", "n't"})
_WORD_SPLIT = re.compile(r"[\s\-]+")


# --------------------------------------------------------------------------- the data
@dataclass(frozen=True)
class ConllDoc:
    """One CoNLL document: its sentences as text (headline first) and gold names per facet."""

    lines: tuple[str, ...]
    gold: dict[str, frozenset[str]]

    @property
    def text(self) -> Text:
        """The article as the pipeline reads it: the first sentence is the headline."""
        return Text(title=self.lines[0], body="\n".join(self.lines[1:]), language="en")


def detokenize(tokens: Sequence[str]) -> str:
    """CoNLL tokens as newswire text: "Clinton 's ." -> "Clinton's."."""
    out: list[str] = []
    for token in tokens:
        if out and token not in _NO_SPACE_BEFORE and out[-1] != "(":
            out.append(" ")
        out.append(token)
    return "".join(out)


def read_conll(path: Path) -> list[ConllDoc]:
    """The documents of a CoNLL 4-column IOB2 file (``-DOCSTART-`` separates documents)."""
    docs: list[list[list[tuple[str, str]]]] = []
    sentence: list[tuple[str, str]] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("-DOCSTART-") or not line.strip():
            if sentence and docs:
                docs[-1].append(sentence)
            sentence = []
            if line.startswith("-DOCSTART-"):
                docs.append([])
            continue
        cols = line.split()
        sentence.append((cols[0], cols[-1]))
    return [_doc(sentences) for sentences in docs if sentences]


def _doc(sentences: list[list[tuple[str, str]]]) -> ConllDoc:
    gold: dict[str, set[str]] = {facet: set() for facet in FACETS}
    for sentence in sentences:
        span: list[str] = []
        label = ""
        for token, tag in [*sentence, ("", "O")]:
            if tag == "O" or tag.startswith("B-") or tag[2:] != label:
                if span and label in GOLD_FACETS:
                    gold[GOLD_FACETS[label]].add(detokenize(span))
                span, label = [], ""
            if tag != "O":
                span.append(token)
                label = tag[2:]
    lines = tuple(detokenize([t for t, _ in s]) for s in sentences)
    return ConllDoc(lines, {facet: frozenset(names) for facet, names in gold.items()})


# --------------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class NameKey:
    """What a name is compared by: its words, and the initials of its capitalized words."""

    words: frozenset[str]
    initials: str


def name_key(name: str, aliases: AliasTable) -> NameKey:
    """The key of a name (see the module docstring)."""
    cleaned = clean_span(name)
    known = aliases.resolve(cleaned)
    if known is not None:
        cleaned = known[0]
    text = unicodedata.normalize("NFKC", cleaned)
    capitals = [w[0] for w in _WORD_SPLIT.split(text) if w[:1].isupper()]
    words = _WORD_SPLIT.split(text.casefold().replace(".", ""))
    initials = "".join(capitals).casefold() if len(capitals) >= 2 else ""
    return NameKey(frozenset(w for w in words if w and w != "the"), initials)


def same_name(a: NameKey, b: NameKey) -> bool:
    """The matching rule: one's words a subset of the other's, or an acronym of the other."""
    if not a.words or not b.words:
        return False
    if a.words <= b.words or b.words <= a.words:
        return True
    return any(len(x.words) == 1 and min(x.words) == y.initials for x, y in ((a, b), (b, a)))


@dataclass
class FacetScore:
    """Counts of one facet over the documents, and the names that were wrong or missed."""

    predicted: int = 0
    right: int = 0
    gold: int = 0
    found: int = 0
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def add(self, predicted: Sequence[str], gold: frozenset[str], aliases: AliasTable) -> None:
        """Count one document's distinct names."""
        pred = {name: name_key(name, aliases) for name in dict.fromkeys(predicted)}
        want = {name: name_key(name, aliases) for name in gold}
        right = [p for p, k in pred.items() if any(same_name(k, g) for g in want.values())]
        found = [g for g, k in want.items() if any(same_name(k, p) for p in pred.values())]
        self.predicted += len(pred)
        self.right += len(right)
        self.gold += len(want)
        self.found += len(found)
        self.wrong += sorted(set(pred) - set(right))
        self.missed += sorted(set(want) - set(found))

    @property
    def precision(self) -> float:
        """Right predicted names / predicted names."""
        return self.right / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Gold names found / gold names."""
        return self.found / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(
    facets: Sequence[EntityFacets], docs: Sequence[ConllDoc], aliases: AliasTable
) -> dict[str, FacetScore]:
    """Scores per facet, and ``micro`` over the three facets."""
    scores = {facet: FacetScore() for facet in FACETS}
    for found, doc in zip(facets, docs, strict=True):
        for facet in FACETS:
            scores[facet].add(getattr(found, facet), doc.gold[facet], aliases)
    micro = FacetScore()
    for s in scores.values():
        micro.predicted += s.predicted
        micro.right += s.right
        micro.gold += s.gold
        micro.found += s.found
    return {**scores, "micro": micro}


# --------------------------------------------------------------------------- running
def spacy_mentions(nlp: Any, texts: Sequence[Text]) -> list[tuple[list[Mention], list[Context]]]:
    """spaCy's ``(text, label)`` mentions of each text and their contexts, as the worker reads
    the text."""
    docs = nlp.pipe((ner_text(t) for t in texts), batch_size=32)
    return [doc_mentions(doc) for doc in docs]


def systems(aliases: AliasTable, ablation: bool) -> dict[str, Callable[..., EntityFacets]]:
    """Name -> function(text, mentions) giving the facets of that system."""
    found: dict[str, Callable[..., EntityFacets]] = {
        "raw spaCy": lambda text, found: raw_facets(found[0]),
        "newsflow": lambda text, found: entity_facets(text, found[0], found[1], aliases),
    }
    for rule in RULES if ablation else ():
        off = frozenset({rule})
        found[f"without {rule}"] = lambda t, m, off=off: entity_facets(t, m[0], m[1], aliases, off)
    return found


def nlp_cpu_ms(analyzer: Any, texts: Sequence[Text], repeat: int = 3) -> float:
    """CPU milliseconds per article of :meth:`Analyzer.analyze` (what a spaCy process runs)."""
    analyzer.analyze(texts[:2])  # warm-up: lazy loads
    started = time.process_time()
    for _ in range(repeat):
        analyzer.analyze(texts)
    return (time.process_time() - started) / repeat / max(len(texts), 1) * 1e3


def cost_texts() -> list[Text]:
    """The 5 seeds and the sample corpus, as the worker reads them."""
    from producers.files import txt_article

    files = [f for folder in (DEFAULT_SEEDS, SAMPLE) for f in sorted(folder.glob("*.txt"))]
    articles = [txt_article(f.read_text(encoding="utf-8")) for f in files]
    return [Text(a.get("title"), a["body"]) for a in articles]


def run(data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of this evaluation, or ``{"skipped": reason}`` without the data file."""
    path = data_dir / CONLL
    if not path.is_file():
        return {"skipped": f"{path} not found (use --data DIR)"}
    from processors.worker.nlp import load_model

    docs = read_conll(path)
    aliases = load_aliases()
    nlp = load_model()
    started = time.process_time()
    mentions = spacy_mentions(nlp, [d.text for d in docs])
    spacy_ms = (time.process_time() - started) / len(docs) * 1e3
    result: dict[str, Any] = {"file": str(path), "documents": len(docs), "scores": {}}
    result["aliases"] = aliases.version
    for name, system in systems(aliases, getattr(args, "ablation", False)).items():
        started = time.process_time()
        facets = [system(d.text, m) for d, m in zip(docs, mentions, strict=True)]
        if name == "newsflow":
            result["entities_cpu_ms"] = (time.process_time() - started) / len(docs) * 1e3
        result["scores"][name] = score(facets, docs, aliases)
    result["spacy_cpu_ms"] = spacy_ms
    if getattr(args, "cost", True):
        texts = cost_texts()
        analyzer = load_analyzer(lambda: nlp)
        result["cost"] = {"articles": len(texts), "analyze_cpu_ms": nlp_cpu_ms(analyzer, texts)}
    return result


def report(result: dict[str, Any], verbose: bool = False) -> str:
    """The figures as printable lines."""
    if "skipped" in result:
        return f"entities: skipped: {result['skipped']}"
    lines = [
        f"entities on {result['file']}: {result['documents']} documents, aliases "
        f"{result['aliases']}; CPU per document: spaCy NER {result['spacy_cpu_ms']:.1f} ms, "
        f"newsflow's entity_facets after it {result['entities_cpu_ms']:.2f} ms",
        f"  {'system':<26} {'persons P/R/F1':<19} {'organizations P/R/F1':<21} "
        f"{'locations P/R/F1':<19} micro F1",
    ]
    base = result["scores"]["newsflow"]["micro"].f1
    for name, scores in result["scores"].items():
        cells = " ".join(
            f"{s.precision:.3f}/{s.recall:.3f}/{s.f1:.3f}".ljust(20)
            for facet, s in scores.items()
            if facet != "micro"
        )
        delta = scores["micro"].f1 - base
        tail = f" ({delta:+.3f})" if name.startswith("without") else ""
        lines.append(f"  {name:<26} {cells} {scores['micro'].f1:.3f}{tail}")
    if verbose:
        for facet in FACETS:
            s = result["scores"]["newsflow"][facet]
            lines.append(f"  newsflow {facet} wrong: " + "; ".join(s.wrong))
            lines.append(f"  newsflow {facet} missed: " + "; ".join(s.missed))
    if "cost" in result:
        cost = result["cost"]
        lines.append(
            f"  cost: Analyzer.analyze {cost['analyze_cpu_ms']:.1f} ms CPU per article "
            f"({cost['articles']} articles: seeds and corpus/sample)"
        )
    return "\n".join(lines)


REQUIRES = (str(CONLL),)


def section(data: Path) -> None:
    """Print the entity figures (the ``entities`` section of ``python -m evaluation.external``)."""
    print(report(run(data, argparse.Namespace(ablation=False, cost=True))))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This evaluation's options (shared with ``python -m evaluation.external``)."""
    parser.add_argument("--ablation", action="store_true", help="switch each rule off in turn")
    parser.add_argument("--no-cost", dest="cost", action="store_false", help="skip the timing")
    parser.add_argument("-v", "--verbose", action="store_true", help="list wrong/missed names")


def main(argv: list[str] | None = None) -> None:
    """Evaluate and print."""
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.external.entities",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    add_arguments(parser)
    args = parser.parse_args(argv)
    print(report(run(args.data, args), verbose=args.verbose))


if __name__ == "__main__":
    main()
