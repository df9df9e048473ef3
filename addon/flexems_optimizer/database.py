"""One way to open the service's SQLite file: autocommit (every call one short transaction),
usable from the purge thread, WAL, and the tables a store needs."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_database(
    path: Path, schema: str, *, fsync_each_commit: bool = False
) -> sqlite3.Connection:
    """Without `fsync_each_commit` a commit survives the service crashing, and a power cut once
    the WAL is checkpointed (synchronous=NORMAL); with it, a power cut too (FULL)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={'FULL' if fsync_each_commit else 'NORMAL'}")
    db.executescript(schema)
    return db
