"""A host's communities in the service's SQLite file: settings, invites, members (their tokens
only hashed), each member's latest profile, and the round state, so a restarted host resumes
the round. No device, price or target of any member is ever stored here: profiles are net
power and the marginal value of a member's share, nothing else."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..database import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS communities (
    id TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    created_at REAL NOT NULL,
    state TEXT
);
CREATE TABLE IF NOT EXISTS community_invites (
    hash TEXT PRIMARY KEY,
    community TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS community_members (
    id TEXT PRIMARY KEY,
    community TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    joined_at REAL NOT NULL,
    last_seen REAL,
    left_at REAL
);
CREATE TABLE IF NOT EXISTS community_profiles (
    community TEXT NOT NULL,
    member TEXT NOT NULL,
    round INTEGER NOT NULL,
    window_start REAL NOT NULL,
    profile TEXT NOT NULL,
    posted_at REAL NOT NULL,
    PRIMARY KEY (community, member)
);
"""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class MemberRecord:
    id: str
    community: str
    name: str
    joined_at: float
    last_seen: float | None


@dataclass(frozen=True)
class Profile:
    member: str
    round: int
    window_start: float
    net_kw: list[float]
    consumption_value: list[float] | None
    production_value: list[float] | None
    posted_at: float


class CommunityStore:
    """Every call is one short transaction, like the other stores'."""

    def __init__(self, path: Path) -> None:
        # Members' tokens and invites must survive a power cut (they are rare).
        self._db = open_database(path, _SCHEMA, fsync_each_commit=True)

    def close(self) -> None:
        self._db.close()

    def create(self, settings: dict[str, Any], now: float) -> str:
        community = "c" + secrets.token_hex(6)
        self._db.execute(
            "INSERT INTO communities (id, settings, created_at) VALUES (?, ?, ?)",
            (community, json.dumps(settings), now),
        )
        return community

    def ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT id FROM communities ORDER BY id")]

    def settings(self, community: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT settings FROM communities WHERE id = ?", (community,)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def delete(self, community: str) -> bool:
        for table, key in (("community_invites", "community"), ("community_members", "community"),
                           ("community_profiles", "community")):  # fmt: skip
            self._db.execute(f"DELETE FROM {table} WHERE {key} = ?", (community,))
        return self._db.execute("DELETE FROM communities WHERE id = ?", (community,)).rowcount == 1

    def state(self, community: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT state FROM communities WHERE id = ?", (community,)
        ).fetchone()
        return None if row is None or row[0] is None else dict(json.loads(row[0]))

    def save_state(self, community: str, state: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE communities SET state = ? WHERE id = ?",
            (json.dumps(state, separators=(",", ":")), community),
        )

    def invite(self, community: str, now: float, valid_s: float) -> tuple[str, float]:
        code = secrets.token_urlsafe(18)
        self._db.execute(
            "INSERT INTO community_invites (hash, community, created_at, expires_at) "
            "VALUES (?, ?, ?, ?)",
            (token_hash(code), community, now, now + valid_s),
        )
        return code, now + valid_s

    def join(self, community: str, code: str, name: str, now: float) -> tuple[str, str] | None:
        """A new member and its token for a valid invite, which is used up; None if the code
        is unknown, used, expired or of another community."""
        row = self._db.execute(
            "UPDATE community_invites SET used_at = ? WHERE hash = ? AND community = ? "
            "AND used_at IS NULL AND expires_at > ? RETURNING hash",
            (now, token_hash(code), community, now),
        ).fetchone()
        if row is None:
            return None
        member = "m" + secrets.token_hex(6)
        token = secrets.token_urlsafe(32)
        self._db.execute(
            "INSERT INTO community_members (id, community, name, token_hash, joined_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (member, community, name, token_hash(token), now),
        )
        return member, token

    def member_by_token(self, token: str) -> MemberRecord | None:
        row = self._db.execute(
            "SELECT id, community, name, joined_at, last_seen FROM community_members "
            "WHERE token_hash = ? AND left_at IS NULL",
            (token_hash(token),),
        ).fetchone()
        return None if row is None else MemberRecord(*row)

    def members(self, community: str) -> list[MemberRecord]:
        """The members that have not left, in the order they joined."""
        rows = self._db.execute(
            "SELECT id, community, name, joined_at, last_seen FROM community_members "
            "WHERE community = ? AND left_at IS NULL ORDER BY joined_at, id",
            (community,),
        )
        return [MemberRecord(*row) for row in rows]

    def seen(self, member: str, now: float) -> None:
        self._db.execute("UPDATE community_members SET last_seen = ? WHERE id = ?", (now, member))

    def leave(self, community: str, member: str, now: float) -> bool:
        left = self._db.execute(
            "UPDATE community_members SET left_at = ? WHERE id = ? AND community = ? "
            "AND left_at IS NULL",
            (now, member, community),
        ).rowcount
        self._db.execute(
            "DELETE FROM community_profiles WHERE community = ? AND member = ?", (community, member)
        )
        return left == 1

    def post(self, community: str, profile: Profile) -> None:
        body = {
            "net_kw": profile.net_kw,
            "consumption_value": profile.consumption_value,
            "production_value": profile.production_value,
        }
        self._db.execute(
            "INSERT INTO community_profiles (community, member, round, window_start, profile, "
            "posted_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (community, member) DO UPDATE SET "
            "round = excluded.round, window_start = excluded.window_start, "
            "profile = excluded.profile, posted_at = excluded.posted_at",
            (community, profile.member, profile.round, profile.window_start,
             json.dumps(body, separators=(",", ":")), profile.posted_at),
        )  # fmt: skip

    def profiles(self, community: str) -> dict[str, Profile]:
        rows = self._db.execute(
            "SELECT member, round, window_start, profile, posted_at FROM community_profiles "
            "WHERE community = ?",
            (community,),
        )
        found = {}
        for member, number, start, text, posted_at in rows:
            body = json.loads(text)
            found[member] = Profile(
                member, number, start, body["net_kw"], body["consumption_value"],
                body["production_value"], posted_at,
            )  # fmt: skip
        return found
