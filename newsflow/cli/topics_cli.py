"""``newsflow topics train|eval``: fit a topic model on your own labels, or check one.

Labelled input is JSONL, one article a line: ``{"title": ..., "body": ..., "topics": [...]}``
with IPTC top-level slugs (the first is the article's topic). The shipped model lives in
``deploy/models/topics-v1``; see docs/QUALITY.md for how it was trained and how it scores.
"""

from __future__ import annotations

from pathlib import Path

import click

_EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group()
def topics() -> None:
    """Train or evaluate the learned topic model."""


@topics.command()
@click.argument("labelled", type=_EXISTING)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("topic-model"),
    show_default=True,
    help="Folder for the model (topics-custom.npz and its card topics-custom.json).",
)
@click.option("--licence", default="as the training data's", show_default=True,
              help="Licence of the model, written to its card.")  # fmt: skip
@click.option("--attribution", multiple=True, help="Attribution of the training data (repeatable).")
def train(labelled: Path, out: Path, licence: str, attribution: tuple[str, ...]) -> None:
    """Fit a model on LABELLED.jsonl (title, body, topics) with the shipped model's settings."""
    from tqdm import tqdm

    from processors.stages.topic_train import FitSettings, fit, read_labelled, save_model

    docs = read_labelled(labelled)
    settings = FitSettings()
    arrays = fit(docs, settings, progress=lambda d: tqdm(d, desc="features", unit=" articles"))
    card = save_model(
        arrays,
        out / "topics-custom",
        {
            "version": "1",
            "licence": licence,
            "attribution": list(attribution) or [f"trained on {labelled.name}"],
            "training": {"data": [labelled.name], "texts": len(docs)},
        },
        settings.text,
    )
    click.echo(f"wrote {card} and {card.with_suffix('.npz')} ({len(docs)} articles)")


@topics.command(name="eval")
@click.argument("labelled", type=_EXISTING)
@click.option(
    "--model",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Model folder or path without suffix [default: the shipped deploy/models/topics-v1].",
)
def evaluate_cmd(labelled: Path, model: Path | None) -> None:
    """Top-1 accuracy and per-class confusion of a model on LABELLED.jsonl."""
    from tqdm import tqdm

    from processors.stages.topic_model import load_topic_model
    from processors.stages.topic_train import evaluate, read_labelled

    docs = read_labelled(labelled)
    loaded = load_topic_model(model)
    confusion = evaluate(loaded, docs, progress=lambda d: tqdm(d, desc="eval", unit=" articles"))
    click.echo(
        f"model {loaded.version}: top-1 {confusion.accuracy:.3f} on {confusion.total} articles"
    )
    click.echo("\n".join(confusion.lines()))
