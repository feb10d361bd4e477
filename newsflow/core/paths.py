"""Where the repository's data lives: deploy/ (templates, tables, models) and corpus/."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
CORPUS = REPO / "corpus"
