"""The unprivileged system user Elasticsearch runs as when we are root, and file ownership."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

from newsflow.core.errors import StackError


def ensure_system_user(name: str) -> tuple[int, int]:
    """The (uid, gid) of system user ``name``, created with ``useradd --system`` if missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        command = [
            useradd, "--system", "--user-group", "--no-create-home",
            "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name,
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise StackError(f"cannot create user {name} for Elasticsearch: {exc}") from None
        if done.returncode != 0:
            reason = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            raise StackError(f"cannot create user {name} for Elasticsearch: {reason[0]}") from None
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def chown_tree(path: Path, uid: int, gid: int) -> None:
    """Give ``path`` and everything below it to ``uid:gid`` (links themselves, not targets)."""
    os.lchown(path, uid, gid)
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(top, name), uid, gid)


def make_traversable(path: Path, stop: Path) -> None:
    """Let every user enter ``path`` and its parents up to (not including) ``stop``."""
    for directory in [path, *path.parents]:
        if directory == stop or directory == directory.parent:
            break
        mode = directory.stat().st_mode
        if mode & 0o055 != 0o055:
            directory.chmod(mode | 0o055)
