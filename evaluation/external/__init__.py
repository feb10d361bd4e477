"""Quality on real news labelled by others: ``python -m evaluation.external`` (``make eval``).

``../shared/data`` (see its README for each set's licence) is read at evaluation time; none of
its text is copied into the repository.
"""

from pathlib import Path

# CI and developers have the shared folder beside the repository.
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
