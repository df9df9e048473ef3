"""The data directory: held by one service at a time, and a store that opens or is set aside.

Two services on one data directory would each think the other's running jobs were left over
from a crash and fail them; a lock file held for the process's life makes the second refuse to
start instead. A database that is not a database any more (a corrupt file after a power cut)
is moved aside, so the service starts with a fresh store rather than in a crash loop.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LOGGER = logging.getLogger(__name__)
LOCK_FILE = "flexems.lock"


class DataDirBusyError(RuntimeError):
    """Another service holds the data directory."""


def lock(data_dir: Path) -> IO[str]:
    """Hold the data directory for this process's life (the kernel lets go when it ends, also
    after kill -9). Raises DataDirBusyError naming the other holder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DataDirBusyError(
            f"{data_dir} is in use by another flexems service ({holder}); "
            "stop it or give this one its own --data-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


@dataclass(frozen=True)
class Recovery:
    """A corrupt store moved aside at start: where to, when and why."""

    moved_to: str
    at: str
    reason: str


def set_aside_if_corrupt(database: Path) -> Recovery | None:
    """Move a database that SQLite cannot read (with its WAL and shared-memory files) to
    `<name>.corrupt-<time>`; None when it is sound or does not exist."""
    if not database.exists():
        return None
    reason = _fault(database)
    if reason is None:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    moved = database.with_name(f"{database.name}.corrupt-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = database.with_name(database.name + suffix)
        if part.exists():
            part.rename(moved.with_name(moved.name + suffix))
    LOGGER.error(
        "The job store %s could not be read (%s): moved to %s; starting with a fresh store",
        database, reason, moved,
    )  # fmt: skip
    return Recovery(moved_to=str(moved), at=stamp, reason=reason)


def _fault(database: Path) -> str | None:
    try:
        db = sqlite3.connect(database)
    except sqlite3.Error as error:
        return str(error)
    try:
        result = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as error:
        return str(error)
    finally:
        db.close()
    if result is None or result[0] != "ok":
        return f"quick_check: {result[0] if result else 'no answer'}"
    return None


TOKEN_FILE = "token"


def service_token(data_dir: Path) -> str:
    """The token this data directory's service uses when none is given: made on first start
    (random, 43 characters) and kept readable by its owner only."""
    path = data_dir / TOKEN_FILE
    try:
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        token = ""
    if len(token) >= 32:
        return token
    token = secrets.token_urlsafe(32)
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(token + "\n")
    LOGGER.info("Made an API token for this service in %s", path)
    return token
