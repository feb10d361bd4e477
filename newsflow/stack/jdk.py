"""Find the JDK that runs Kafka and Elasticsearch.

Order: ``NEWSFLOW_JAVA_HOME``, then ``JAVA_HOME``, then the best JDK in ``/usr/lib/jvm``, then
``java`` on PATH. Kafka 4 needs Java 17 or later and Elasticsearch 8.19 is tested on 17 and 21,
so among installed JDKs we prefer 17, else the highest that is at least 17.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

from newsflow.core.errors import StackError

JVM_DIR = Path("/usr/lib/jvm")
MIN_MAJOR = 17
PREFERRED_MAJOR = 17
_VERSION = re.compile(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?(?:\.(\d+))?', re.MULTILINE)


def java_version(java_home: Path) -> tuple[int, ...] | None:
    """The version of a JDK from its ``release`` file, e.g. ``(17, 0, 15)``; None if unknown."""
    try:
        match = _VERSION.search((java_home / "release").read_text(errors="replace"))
    except OSError:
        return None
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def choose_jdk(candidates: Iterable[Path]) -> Path | None:
    """The preferred JDK among ``candidates`` (directories with ``bin/java``), or None."""
    found: dict[Path, tuple[int, ...]] = {}
    for home in candidates:
        version = java_version(home)
        if (home / "bin" / "java").is_file() and version and version[0] >= MIN_MAJOR:
            found.setdefault(home.resolve(), version)  # symlinked aliases count once
    if not found:
        return None

    def rank(item: tuple[Path, tuple[int, ...]]) -> tuple[bool, tuple[int, ...]]:
        return item[1][0] == PREFERRED_MAJOR, item[1]

    return max(found.items(), key=rank)[0]


def _checked(home: Path, source: str) -> Path:
    if not (home / "bin" / "java").is_file():
        raise StackError(f"{source}={home} has no bin/java")
    version = java_version(home)
    if version and version[0] < MIN_MAJOR:
        raise StackError(f"{source}={home} is Java {version[0]}; Kafka 4 needs Java {MIN_MAJOR}+")
    return home


def find_java_home(
    configured: Path | None,
    environ: Mapping[str, str] = os.environ,
    jvm_dir: Path = JVM_DIR,
) -> Path:
    """The JAVA_HOME to use; a :class:`StackError` names what to install when there is none."""
    if configured is not None:
        return _checked(configured, "NEWSFLOW_JAVA_HOME")
    if environ.get("JAVA_HOME"):
        return _checked(Path(environ["JAVA_HOME"]), "JAVA_HOME")
    if jvm_dir.is_dir() and (best := choose_jdk(sorted(jvm_dir.iterdir()))):
        return best
    java = shutil.which("java", path=environ.get("PATH"))
    if java:
        return _checked(Path(java).resolve().parents[1], "java on PATH")
    raise StackError(
        f"no JDK found: install Java {PREFERRED_MAJOR} "
        "(e.g. apt-get install openjdk-17-jdk-headless) or set NEWSFLOW_JAVA_HOME"
    )
