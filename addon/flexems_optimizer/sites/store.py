"""Sites and their latest plans in the service's SQLite file, so a restart loses no site (nor
the on/off choices its next plan starts from)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..database import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (
    id TEXT PRIMARY KEY,
    problem TEXT NOT NULL,
    revision INTEGER NOT NULL,
    updated_at REAL NOT NULL,
    plan TEXT,
    plan_revision INTEGER,
    planned_at REAL,
    error TEXT,
    failed_revision INTEGER,
    choices TEXT
);
"""
# Columns added in 0.3.0: a file written before gets them when opened.
_ADDED_COLUMNS = ("choices",)


@dataclass(frozen=True)
class SiteRecord:
    id: str
    problem: dict[str, Any]
    revision: int  # counts the problems stored for this site
    updated_at: float
    plan: dict[str, Any] | None  # the latest plan, of problem revision plan_revision
    plan_revision: int | None
    planned_at: float | None
    error: dict[str, Any] | None  # why the latest planning failed (the plan before is kept)
    failed_revision: int | None  # the problem revision that failed
    choices: dict[str, Any] | None  # the latest plan's on/off choices (solve/choices.py)


class SiteStore:
    """Every call is one short transaction, like the job store's."""

    def __init__(self, path: Path) -> None:
        self._db = open_database(path, _SCHEMA, added_columns={"sites": _ADDED_COLUMNS})

    def close(self) -> None:
        self._db.close()

    def put(self, site: str, problem: dict[str, Any], now: float) -> int:
        """Store a site's new problem; returns its revision (1 for a new site)."""
        text = _compact(problem)
        row = self._db.execute(
            "INSERT INTO sites (id, problem, revision, updated_at) VALUES (?, ?, 1, ?) "
            "ON CONFLICT (id) DO UPDATE SET problem = excluded.problem, "
            "revision = sites.revision + 1, updated_at = excluded.updated_at RETURNING revision",
            (site, text, now),
        ).fetchone()
        return int(row[0])

    def get(self, site: str) -> SiteRecord | None:
        row = self._db.execute(
            "SELECT id, problem, revision, updated_at, plan, plan_revision, planned_at, error, "
            "failed_revision, choices FROM sites WHERE id = ?",
            (site,),
        ).fetchone()
        if row is None:
            return None
        return SiteRecord(
            id=row[0],
            problem=json.loads(row[1]),
            revision=row[2],
            updated_at=row[3],
            plan=None if row[4] is None else json.loads(row[4]),
            plan_revision=row[5],
            planned_at=row[6],
            error=None if row[7] is None else json.loads(row[7]),
            failed_revision=row[8],
            choices=None if row[9] is None else json.loads(row[9]),
        )

    def ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT id FROM sites ORDER BY id")]

    def planned(
        self,
        site: str,
        revision: int,
        plan: dict[str, Any],
        at: float,
        choices: dict[str, Any] | None = None,
    ) -> None:
        """The site's new plan; `choices` (an LP's plan has none) replace the kept ones."""
        self._db.execute(
            "UPDATE sites SET plan = ?, plan_revision = ?, planned_at = ?, error = NULL, "
            "failed_revision = NULL, choices = coalesce(?, choices) WHERE id = ?",
            (_compact(plan), revision, at, None if choices is None else _compact(choices), site),
        )

    def failed(self, site: str, revision: int, error: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE sites SET error = ?, failed_revision = ? WHERE id = ?",
            (json.dumps(error), revision, site),
        )

    def delete(self, site: str) -> bool:
        return self._db.execute("DELETE FROM sites WHERE id = ?", (site,)).rowcount == 1


def _compact(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))
