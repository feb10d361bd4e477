"""Every runtime patch of a third-party library, declared once, installed by one :func:`install`.

A patch rewrites private internals, so it is right only for the code it was written against.
Each one names the library release it was made for, the upstream issue or pull request it works
around, and the SHA-256 of the source of every function it replaces. :func:`install` refuses to
patch anything else: on an upgrade the worker stops at once with the patch, the version and the
link, and docs/PATCHES.md is the checklist (read the upstream fix; drop the patch, or check it
against the new code and record the new hashes with ``python -m processors.worker.patches``).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from processors.worker import holes, rewind, undecodable

FAUST = "faust-streaming"


@dataclass(frozen=True)
class Patch:
    """One patch: where it lives, what it was written for, what it replaces and with what."""

    name: str  # the module that holds the replacements
    written_for: Mapping[str, str]  # distribution -> the exact version it was written for
    upstream: tuple[str, ...]  # the issues / pull requests it works around
    why: str  # one line: what goes wrong without it
    # "module:Class.attr" -> (the SHA-256 of the replaced original's source, its replacement)
    replaces: Mapping[str, tuple[str, Callable[..., Any]]]


PATCHES: tuple[Patch, ...] = (
    Patch(
        name="processors.worker.rewind",
        written_for={FAUST: "0.15.3"},
        upstream=(
            "https://github.com/faust-streaming/faust/issues/216",
            "https://github.com/faust-streaming/faust/pull/217",
            "https://github.com/faust-streaming/faust/issues/596",
        ),
        why="a rebalance resumes the stream partitions before it seeks them: events are lost",
        replaces={
            "faust.tables.recovery:Recovery._resume_streams": (
                "d986a6710c1aca98f08c4c723fb3eadc5bf24576ad4eb9da3dd3eecedda2f24e",
                rewind._resume_streams,
            ),
            "faust.tables.recovery:Recovery.on_recovery_completed": (
                "6ef567acf072e46da3fccbccc6d662371f634f622c3d510972d5df81f70ae3ac",
                rewind._on_recovery_completed,
            ),
        },
    ),
    Patch(
        name="processors.worker.holes",
        written_for={FAUST: "0.15.3"},
        upstream=(
            "https://github.com/faust-streaming/faust/issues/606",
            "https://github.com/faust-streaming/faust/pull/707",
        ),
        why="the commit skips a one-message hole at the head of a partition's acks",
        replaces={
            "faust.transport.consumer:Consumer._new_offset": (
                "1d2c7ea89a7ad4f1a216c1d51936e569162cd66bd56f889e13fd29c910b58eb0",
                holes._new_offset,
            ),
        },
    ),
    Patch(
        name="processors.worker.undecodable",
        # Faust too: its fetcher crashes the worker on what aiokafka raises here.
        written_for={"aiokafka": "0.14.0", FAUST: "0.15.3"},
        upstream=("https://github.com/aio-libs/aiokafka/issues/321",),
        why="a record batch that cannot be decoded stops the worker, so every partition",
        replaces={
            "aiokafka.consumer.fetcher:PartitionRecords.__init__": (
                "8ec1c2ae6ea1af875db73e6d01604f3edf269faf5806c67c02d1f91b456d3571",
                undecodable._init,
            ),
            "aiokafka.consumer.fetcher:FetchResult.getall": (
                "3e717e30de5068d549dd41b231928c67a24e832a928d48bac5f485e448daa903",
                undecodable._getall,
            ),
        },
    ),
)


class PatchRefused(RuntimeError):
    """A patch meets a library version or code other than the one it was written for."""


def source_hash(target: str) -> str:
    """The SHA-256 of the source of ``target`` ("module:Class.attr") as installed now."""
    return hashlib.sha256(inspect.getsource(pkgutil.resolve_name(target)).encode()).hexdigest()


def problems(patch: Patch) -> list[str]:
    """What differs from what ``patch`` was written for (empty: it may be installed)."""
    found = [
        f"{dist} is {version(dist)}, not {wanted}"
        for dist, wanted in patch.written_for.items()
        if version(dist) != wanted
    ]
    for target, (sha256, replacement) in patch.replaces.items():
        if pkgutil.resolve_name(target) is not replacement and source_hash(target) != sha256:
            found.append(f"{target} is not the code the patch replaces (its SHA-256 differs)")
    return found


def install() -> None:
    """Check every patch, then install them all (idempotent; once, before a worker starts)."""
    for patch in PATCHES:
        found = problems(patch)
        if found:
            written_for = ", ".join(f"{d} {v}" for d, v in patch.written_for.items())
            raise PatchRefused(
                f"{patch.name} was written for {written_for}: {'; '.join(found)}. "
                f"Read {' and '.join(patch.upstream)}: drop the patch if the release fixes it, "
                "or check it against the new code and record the new versions and hashes "
                "(python -m processors.worker.patches; docs/PATCHES.md)"
            )
    for patch in PATCHES:
        for target, (_, replacement) in patch.replaces.items():
            owner, _, attr = target.rpartition(".")
            setattr(pkgutil.resolve_name(owner), attr, replacement)


def main() -> None:
    """Print each replaced function's SHA-256 as installed now (to re-hash after a check)."""
    argparse.ArgumentParser(
        prog="python -m processors.worker.patches",
        description="Print the SHA-256 of each function the runtime patches replace, as "
        "installed now, to compare with (or record in) processors/worker/patches.py.",
    ).parse_args()
    for patch in PATCHES:
        for target in patch.replaces:
            print(f"{patch.name}  {target}  {source_hash(target)}")


if __name__ == "__main__":
    main()
