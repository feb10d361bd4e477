"""Write the JSON Schema of every wire model to ``schemas/json/`` (``make schemas``).

The files are checked in; ``tests/unit/test_schemas.py`` fails when they drift from the
models, so a contract change is always a visible diff. The Elasticsearch index templates
(``deploy/elasticsearch/v8/``) are written by hand, since each field's type is a choice (text
or keyword, which number), and checked against the same models by that test, field by field.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.alert import Alert
from schemas.article import Article
from schemas.deadletter import DeadLetter
from schemas.raw import RawArticle

OUT = Path(__file__).resolve().parent / "json"
MODELS: dict[str, type[BaseModel]] = {
    "raw-article": RawArticle,
    "article": Article,
    "alert": Alert,
    "dead-letter": DeadLetter,
}


def render(model: type[BaseModel]) -> str:
    """The JSON Schema of ``model``, as the text stored in the repository."""
    return (
        json.dumps(model.model_json_schema(mode="serialization"), indent=2, sort_keys=True) + "\n"
    )


def main() -> None:
    """Regenerate every schema file."""
    OUT.mkdir(exist_ok=True)
    for name, model in MODELS.items():
        (OUT / f"{name}.schema.json").write_text(render(model), encoding="utf-8")
        print(f"wrote {OUT / f'{name}.schema.json'}")


if __name__ == "__main__":
    main()
