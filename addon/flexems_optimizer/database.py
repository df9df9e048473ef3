"""One way to open the service's SQLite file: autocommit (every call one short transaction),
usable from the purge thread, WAL, and the tables a store needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path


def open_database(
    path: Path,
    schema: str,
    *,
    fsync_each_commit: bool = False,
    added_columns: Mapping[str, tuple[str, ...]] | None = None,
) -> sqlite3.Connection:
    """Without `fsync_each_commit` a commit survives the service crashing, and a power cut once
    the WAL is checkpointed (synchronous=NORMAL); with it, a power cut too (FULL).
    `added_columns`: per table, the TEXT columns `schema` gained after a release, which a file
    written by that release gets when opened (CREATE TABLE IF NOT EXISTS leaves it as it is)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={'FULL' if fsync_each_commit else 'NORMAL'}")
    db.executescript(schema)
    for table, columns in (added_columns or {}).items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
    return db
