"""What the feed poller remembers across restarts: published article ids and HTTP validators.

A small SQLite file per namespace under ``NEWSFLOW_HOME`` (see docs/FEEDS.md for why not a
compacted topic). Rows are written only after Kafka acknowledged the articles, so a crash
can publish an item again but never lose one; the article id keeps that harmless.

Methods are synchronous and short; the poller calls them through ``asyncio.to_thread`` so
that a slow disk never stalls the event loop, hence one connection shared under a lock.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    article_id TEXT PRIMARY KEY,
    feed_url   TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS seen_last ON seen (last_seen);
CREATE TABLE IF NOT EXISTS validators (
    feed_url      TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    updated_at    REAL NOT NULL
);
"""
# SQLite caps host parameters per statement (32766 since 3.32; 999 before).
_CHUNK = 900
RETENTION_SECONDS = 30 * 86400


def default_state_path(home: Path, namespace: str) -> Path:
    """Where the seen-store of a namespace lives by default."""
    return home / "feeds" / f"{namespace}.sqlite3"


@dataclass(frozen=True)
class Validators:
    """The HTTP validators of a feed's last full response, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None

    def request_headers(self) -> dict[str, str]:
        """``If-None-Match`` and ``If-Modified-Since`` for the validators we have."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class SeenStore:
    """Article ids already published, per namespace, and each feed's HTTP validators."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # WAL: readers never wait for the writer; NORMAL: durable at each checkpoint, enough
        # for a cache whose loss only costs re-publishing (idempotent) items.
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    def validators(self, feed_url: str) -> Validators:
        """The validators stored for ``feed_url`` (empty when never fetched)."""
        with self._lock:
            row = self._db.execute(
                "SELECT etag, last_modified FROM validators WHERE feed_url = ?", (feed_url,)
            ).fetchone()
        return Validators(*row) if row else Validators()

    def unseen(self, article_ids: Iterable[str]) -> set[str]:
        """The ids among ``article_ids`` that were never published."""
        wanted = set(article_ids)
        found: set[str] = set()
        ids = sorted(wanted)
        with self._lock:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT article_id FROM seen WHERE article_id IN ({marks})"
                found.update(row[0] for row in self._db.execute(query, chunk))
        return wanted - found

    def record_poll(
        self,
        feed_url: str,
        published: Iterable[str],
        present: Iterable[str],
        validators: Validators,
        now: float | None = None,
    ) -> None:
        """After a confirmed publish: mark ``published`` ids, refresh the last sighting of the
        ids still ``present`` in the feed, and keep the validators, in one transaction."""
        now = time.time() if now is None else now
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO seen VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (article_id) DO UPDATE SET last_seen = excluded.last_seen",
                    [(aid, feed_url, now, now) for aid in set(published)],
                )
                self._db.executemany(
                    "UPDATE seen SET last_seen = ? WHERE article_id = ?",
                    [(now, aid) for aid in set(present)],
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO validators VALUES (?, ?, ?, ?)",
                    (feed_url, validators.etag, validators.last_modified, now),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def prune(self, older_than: float) -> int:
        """Forget ids not seen in any feed since ``older_than`` (POSIX seconds); how many.

        Items leave feeds after days; forgetting them keeps the file small. One that came
        back after that would be published again, under the same article id.
        """
        with self._lock:
            cursor = self._db.execute("DELETE FROM seen WHERE last_seen < ?", (older_than,))
        return cursor.rowcount

    def count(self) -> int:
        """How many article ids are remembered."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM seen").fetchone()[0])
