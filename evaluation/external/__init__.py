"""Quality on real news labelled by others: ``python -m evaluation.external`` (``make eval``)."""

from pathlib import Path

# CI and developers have the shared folder beside the repository.
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
