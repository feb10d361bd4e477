"""``python -m evaluation.external [--data DIR] [--only topics,...]``: every real-news figure.

Each section is one module of this package with ``REQUIRES`` (files under the data folder)
and ``section(data)``, which prints its figures; adding a section is one line in ``SECTIONS``.
A section whose files are missing is skipped with a reason.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from pathlib import Path

from evaluation.external import DEFAULT_DATA

# name -> module (imported only when its section runs).
SECTIONS: dict[str, str] = {
    "topics": "evaluation.external.topics",
    "entities": "evaluation.external.entities",
    "stories": "evaluation.external.stories",  # through a real worker: needs the stack
}


def missing(data: Path, required: tuple[str, ...]) -> list[str]:
    """The files of ``required`` that ``data`` lacks."""
    return [name for name in required if not (data / name).is_file()]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen sections over the data folder; exit 2 on bad arguments."""
    parser = argparse.ArgumentParser(prog="python -m evaluation.external", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections (default: all of {', '.join(SECTIONS)})",
    )
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown or not chosen:
        parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    if not args.data.is_dir():
        print(f"evaluation.external: skipped: no data folder at {args.data} (use --data DIR)")
        return 0
    print(
        f"data {args.data}; machine {platform.machine()}, {_cpu()}, "
        f"Python {platform.python_version()}"
    )
    for name in chosen:
        module = importlib.import_module(SECTIONS[name])
        lacking = missing(args.data, module.REQUIRES)
        print(f"\n== {name}")
        if lacking:
            print(f"  skipped: {args.data} lacks {', '.join(lacking)}")
            continue
        module.section(args.data)
    return 0


def _cpu() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "cpu ?"
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return f"{len(names)} x {names[0]}" if names else "cpu ?"


if __name__ == "__main__":
    sys.exit(main())
