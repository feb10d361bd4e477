"""Pinned artifacts from Maven Central: lock files, download with a progress bar, sha256 check.

A lock file (``deploy/stack/<product>-<version>.lock``) has one artifact a line::

    org.apache.kafka:kafka-server:4.3.1  01d7...eaebc
    org.elasticsearch.distribution.integ-test-zip:elasticsearch:8.19.21:zip  215d...c8a

that is ``groupId:artifactId:version[:extension[:classifier]]`` and the sha256 of the file;
``#`` starts a comment. Users need no Maven: the files come straight from Maven Central.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from newsflow.core.errors import StackError

MAVEN_CENTRAL = "https://repo1.maven.org/maven2/"
LOCK_DIR = Path(__file__).resolve().parents[2] / "deploy" / "stack"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Artifact:
    """One file of Maven Central, pinned by its sha256."""

    group: str
    artifact: str
    version: str
    sha256: str
    extension: str = "jar"
    classifier: str = ""

    @property
    def filename(self) -> str:
        """The file name, as Maven Central has it."""
        suffix = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{suffix}.{self.extension}"

    @property
    def relpath(self) -> str:
        """The path in Maven's repository layout (also the path in our download cache)."""
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.filename}"

    @property
    def url(self) -> str:
        """Where Maven Central serves it."""
        return MAVEN_CENTRAL + self.relpath


def parse_lock(text: str, source: str = "lock") -> list[Artifact]:
    """Parse the text of a lock file; a malformed line is a :class:`StackError`."""
    artifacts = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        parts = fields[0].split(":")
        if len(fields) != 2 or not 3 <= len(parts) <= 5 or not _SHA256.fullmatch(fields[1]):
            expected = "group:artifact:version[:extension[:classifier]]  sha256"
            raise StackError(f"{source}:{number}: expected '{expected}'")
        group, artifact, version, *rest = parts
        artifacts.append(Artifact(group, artifact, version, fields[1], *rest))
    if not artifacts:
        raise StackError(f"{source}: no artifacts")
    return artifacts


def read_lock(product: str, version: str, lock_dir: Path = LOCK_DIR) -> list[Artifact]:
    """The pinned artifacts of ``product`` (``kafka``, ``elasticsearch``) at ``version``."""
    path = lock_dir / f"{product}-{version}.lock"
    if not path.is_file():
        known = sorted(p.stem for p in lock_dir.glob(f"{product}-*.lock"))
        raise StackError(f"no lock file {path} for {product} {version} (have: {', '.join(known)})")
    return parse_lock(path.read_text(encoding="utf-8"), source=str(path))


def cached_path(artifact: Artifact, downloads: Path) -> Path:
    """Where ``artifact`` lives in the download cache."""
    return downloads / artifact.relpath


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_text(path: Path, sha256: str) -> str:
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}\n"


def is_verified(artifact: Artifact, path: Path) -> bool:
    """True when ``path`` holds the artifact; a stamp spares re-hashing an unchanged file."""
    if not path.is_file():
        return False
    stamp = _stamp(path)
    if stamp.is_file() and stamp.read_text() == _stamp_text(path, artifact.sha256):
        return True
    if sha256_of(path) != artifact.sha256:
        return False
    stamp.write_text(_stamp_text(path, artifact.sha256))
    return True


def fetch(artifacts: Iterable[Artifact], downloads: Path, progress: bool = True) -> list[Path]:
    """Download what is missing from the cache, verify every file, return the cached paths."""
    paths = []
    for artifact in artifacts:
        path = cached_path(artifact, downloads)
        if not is_verified(artifact, path):
            _download(artifact, path, progress)
        paths.append(path)
    return paths


def _download(artifact: Artifact, path: Path, progress: bool) -> None:
    import httpx
    from tqdm import tqdm

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", artifact.url, follow_redirects=True, timeout=60) as response:
            if response.status_code != 200:
                raise StackError(f"download refused: {artifact.url} (HTTP {response.status_code})")
            total = int(response.headers.get("content-length", 0)) or None
            with (
                partial.open("wb") as out,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    desc=artifact.filename,
                    disable=None if progress else True,  # None: only on a terminal
                    leave=False,
                ) as bar,
            ):
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except httpx.HTTPError as exc:
        raise StackError(f"download failed: {artifact.url} ({exc})") from None
    if digest.hexdigest() != artifact.sha256:
        partial.unlink()
        raise StackError(
            f"checksum mismatch for {artifact.url}: got sha256 {digest.hexdigest()}, "
            f"the lock file pins {artifact.sha256}"
        )
    os.replace(partial, path)
    _stamp(path).write_text(_stamp_text(path, artifact.sha256))
