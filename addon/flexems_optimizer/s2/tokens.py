"""Credentials for S2 devices: a pairing token (one-time, short-lived, made by the home's
owner for one device) is exchanged once for a device token, which the device then connects
with. Both are kept only as SHA-256 hashes; a token names the site its device attaches to."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..database import open_database

PAIRING_S = 15 * 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS s2_tokens (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    site TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL,
    used_at REAL
);
"""


@dataclass(frozen=True)
class Grant:
    site: str
    label: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


class S2Tokens:
    def __init__(self, path: Path) -> None:
        # A token handed out must survive a power cut (pairing is rare).
        self._db = open_database(path, _SCHEMA, fsync_each_commit=True)

    def close(self) -> None:
        self._db.close()

    def pair(self, site: str, label: str, now: float) -> tuple[str, float]:
        """A new pairing token for one device of `site`, and when it expires."""
        token = secrets.token_urlsafe(24)
        expires_at = now + PAIRING_S
        self._db.execute(
            "INSERT INTO s2_tokens (hash, kind, site, label, created_at, expires_at) "
            "VALUES (?, 'pairing', ?, ?, ?, ?)",
            (_hash(token), site, label, now, expires_at),
        )
        return token, expires_at

    def exchange(self, pairing_token: str, now: float) -> tuple[str, Grant] | None:
        """A device token for a valid pairing token, which is used up; None if it is unknown,
        used or expired."""
        row = self._db.execute(
            "UPDATE s2_tokens SET used_at = ? WHERE hash = ? AND kind = 'pairing' "
            "AND used_at IS NULL AND expires_at > ? RETURNING site, label",
            (now, _hash(pairing_token), now),
        ).fetchone()
        if row is None:
            return None
        token = secrets.token_urlsafe(32)
        self._db.execute(
            "INSERT INTO s2_tokens (hash, kind, site, label, created_at) "
            "VALUES (?, 'device', ?, ?, ?)",
            (_hash(token), row[0], row[1], now),
        )
        return token, Grant(row[0], row[1])

    def device(self, token: str) -> Grant | None:
        """The site and label of a device token."""
        row = self._db.execute(
            "SELECT site, label FROM s2_tokens WHERE hash = ? AND kind = 'device'", (_hash(token),)
        ).fetchone()
        return None if row is None else Grant(row[0], row[1])
