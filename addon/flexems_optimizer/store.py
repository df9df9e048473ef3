"""Jobs and their plans in one SQLite file (WAL), so a restart loses nothing."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    summary TEXT,
    plan TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at DESC);
CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY, checked_at REAL NOT NULL);
"""


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class JobRecord:
    id: str
    status: JobStatus
    created_at: float
    started_at: float | None
    finished_at: float | None
    summary: dict[str, Any] | None
    plan: dict[str, Any] | None
    error: dict[str, Any] | None

    def metadata(self) -> dict[str, Any]:
        """What a job listing shows: no plan."""
        duration = (
            self.finished_at - self.started_at
            if self.finished_at is not None and self.started_at is not None
            else None
        )
        return {
            "id": self.id,
            "status": self.status.value,
            "created_at": iso_time(self.created_at),
            "started_at": iso_time(self.started_at),
            "finished_at": iso_time(self.finished_at),
            "duration_s": None if duration is None else round(duration, 6),
            "summary": self.summary,
            "error": self.error,
        }


def iso_time(epoch: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC with milliseconds, as every time the service reports."""
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


class JobStore:
    """A small synchronous store: every call is one short transaction (well under a millisecond)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
        # Space freed by purges goes back to the disk bit by bit (incremental vacuum); a store
        # made before needs one full vacuum to switch.
        if self._db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
            self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._db.execute("VACUUM")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def check(self) -> str:
        """Why the store cannot keep what it acknowledges (full, read-only, corrupt), or ""."""
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO health (id, checked_at) VALUES (1, ?)", (time.time(),)
            )
        except sqlite3.Error as error:
            return f"the job store cannot write: {error}"
        return ""

    def add(self, job_id: str, created_at: float) -> None:
        self._db.execute(
            "INSERT INTO jobs (id, status, created_at) VALUES (?, ?, ?)",
            (job_id, JobStatus.QUEUED.value, created_at),
        )

    def mark_running(self, job_id: str, started_at: float) -> bool:
        """Queued → running; False if the job is no longer queued (cancelled meanwhile)."""
        cursor = self._db.execute(
            "UPDATE jobs SET status = ?, started_at = ? WHERE id = ? AND status = ?",
            (JobStatus.RUNNING.value, started_at, job_id, JobStatus.QUEUED.value),
        )
        return cursor.rowcount == 1

    def finish(
        self,
        job_id: str,
        status: JobStatus,
        finished_at: float,
        *,
        plan: dict[str, Any] | None = None,
        summary: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> bool:
        """Record the outcome unless the job already has one (e.g. it was cancelled)."""
        cursor = self._db.execute(
            "UPDATE jobs SET status = ?, finished_at = ?, plan = ?, summary = ?, error = ? "
            "WHERE id = ? AND status IN (?, ?)",
            (
                status.value,
                finished_at,
                None if plan is None else json.dumps(plan, separators=(",", ":")),
                None if summary is None else json.dumps(summary),
                None if error is None else json.dumps(error),
                job_id,
                JobStatus.QUEUED.value,
                JobStatus.RUNNING.value,
            ),
        )
        return cursor.rowcount == 1

    def get(self, job_id: str) -> JobRecord | None:
        row = self._db.execute(
            "SELECT id, status, created_at, started_at, finished_at, summary, plan, error "
            "FROM jobs WHERE id = ?",
            (job_id,),
        ).fetchone()
        return None if row is None else _record(row)

    def latest(self, limit: int) -> list[JobRecord]:
        rows = self._db.execute(
            "SELECT id, status, created_at, started_at, finished_at, summary, NULL, error "
            "FROM jobs ORDER BY created_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [_record(row) for row in rows]

    def fail_unfinished(self, reason: str, now: float) -> int:
        """At start-up: jobs a previous server left queued or running can never finish."""
        cursor = self._db.execute(
            "UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE status IN (?, ?)",
            (
                JobStatus.FAILED.value,
                now,
                json.dumps({"code": "server_restarted", "message": reason, "path": ""}),
                JobStatus.QUEUED.value,
                JobStatus.RUNNING.value,
            ),
        )
        return cursor.rowcount

    def purge_before(self, cutoff: float) -> int:
        """Drop finished jobs created before `cutoff` (job retention)."""
        return self.purge(before=cutoff)

    def get_raw(self, job_id: str) -> tuple[JobRecord, str | None] | None:
        """A job without its plan parsed, and the plan's JSON text: a plan of megabytes goes
        out as it was stored, without parsing and writing it again on the event loop."""
        row = self._db.execute(
            "SELECT id, status, created_at, started_at, finished_at, summary, NULL, error, plan "
            "FROM jobs WHERE id = ?",
            (job_id,),
        ).fetchone()
        return None if row is None else (_record(row[:8]), row[8])

    def purge(
        self,
        *,
        before: float = 0.0,
        max_jobs: int | None = None,
        max_bytes: int | None = None,
        batch: int = 500,
    ) -> int:
        """Drop ended jobs, oldest first, in small transactions: those created before `before`,
        then as many as keep at most `max_jobs` and `max_bytes`; return space to the disk.
        Runs in a thread of its own (with its own connection), off the event loop."""
        db = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        ended = (JobStatus.FINISHED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)
        oldest = (
            "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE status IN (?, ?, ?) {} "
            "ORDER BY created_at LIMIT ?)"
        )
        removed = 0
        try:
            while deleted := db.execute(
                oldest.format("AND created_at < ?"), (*ended, before, batch)
            ).rowcount:
                removed += deleted
            while (
                max_jobs is not None
                and (excess := db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] - max_jobs) > 0
            ):
                deleted = db.execute(oldest.format(""), (*ended, min(excess, batch))).rowcount
                removed += deleted
                if not deleted:
                    break
            while max_bytes is not None and _used_bytes(db) > max_bytes:
                deleted = db.execute(oldest.format(""), (*ended, batch)).rowcount
                removed += deleted
                db.execute("PRAGMA incremental_vacuum")
                if not deleted:
                    break
            db.execute("PRAGMA incremental_vacuum")
        finally:
            db.close()
        return removed


def _used_bytes(db: sqlite3.Connection) -> int:
    """The database's size less its free pages."""
    pages = (
        db.execute("PRAGMA page_count").fetchone()[0]
        - db.execute("PRAGMA freelist_count").fetchone()[0]
    )
    return int(pages * db.execute("PRAGMA page_size").fetchone()[0])


def _record(row: tuple[Any, ...]) -> JobRecord:
    return JobRecord(
        id=row[0],
        status=JobStatus(row[1]),
        created_at=row[2],
        started_at=row[3],
        finished_at=row[4],
        summary=None if row[5] is None else json.loads(row[5]),
        plan=None if row[6] is None else json.loads(row[6]),
        error=None if row[7] is None else json.loads(row[7]),
    )
