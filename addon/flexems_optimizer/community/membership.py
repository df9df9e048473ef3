"""A site of this add-on taking part in a community hosted elsewhere (or here).

Members behind NAT only make outgoing requests: the site's membership polls the host's
current round; for a new round it plans the site with the round's signals (the site planner
adds them to the site's flex-context, so the plan Home Assistant gets follows them too) and
posts the plan's net profile and the marginal value of its shares; when the site's own inputs
change its plan, it posts again. Only net power and marginal values leave the add-on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from ..database import open_database
from ..problem.timing import parse_duration
from ..sites.planner import SitePlanner
from ..store import iso_time

LOGGER = logging.getLogger(__name__)
POLL_OPEN_S = 1.0  # while the host waits for rounds
POLL_SETTLED_S = 5.0  # once it has converged: until the window moves
RETRY_S = 3.0  # after the host could not be reached (it may be restarting)
PLAN_WAIT_S = 120.0
SIGNAL_KEYS = ("community-price", "community-consumption-capacity",
               "community-production-capacity")  # fmt: skip

_SCHEMA = """
CREATE TABLE IF NOT EXISTS site_communities (
    site TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    community TEXT NOT NULL,
    member TEXT NOT NULL,
    token TEXT NOT NULL,
    joined_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Membership:
    site: str
    host: str  # the host add-on's base URL, e.g. http://192.168.1.20:8099
    community: str
    member: str
    token: str  # the member's own token (the host keeps only its hash)
    joined_at: float


@dataclass
class Progress:
    """What the membership last did, for the site's status (never the token)."""

    round: int | None = None
    status: str = "starting"  # planning, posted, converged, round_limit (as the host), error
    posted_at: float | None = None
    error: str | None = None
    signals: dict[str, Any] | None = None  # the flex-context fields the site plans with
    report: dict[str, Any] | None = None  # the host's latest report to this member

    def as_dict(self) -> dict[str, Any]:
        return {"round": self.round, "status": self.status,
                "posted_at": iso_time(self.posted_at), "error": self.error,
                "signals": self.signals, "report": self.report}  # fmt: skip


class MembershipStore:
    def __init__(self, path: Path) -> None:
        self._db = open_database(path, _SCHEMA, fsync_each_commit=True)

    def close(self) -> None:
        self._db.close()

    def put(self, membership: Membership) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO site_communities VALUES (?, ?, ?, ?, ?, ?)",
            (membership.site, membership.host, membership.community, membership.member,
             membership.token, membership.joined_at),
        )  # fmt: skip

    def get(self, site: str) -> Membership | None:
        row = self._db.execute("SELECT * FROM site_communities WHERE site = ?", (site,)).fetchone()
        return None if row is None else Membership(*row)

    def all(self) -> list[Membership]:
        return [Membership(*row) for row in self._db.execute("SELECT * FROM site_communities")]

    def delete(self, site: str) -> bool:
        return (
            self._db.execute("DELETE FROM site_communities WHERE site = ?", (site,)).rowcount == 1
        )


class Memberships:
    """One polling task per site that takes part in a community."""

    def __init__(self, store: MembershipStore, planner: SitePlanner) -> None:
        self.store = store
        self._planner = planner
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.progress: dict[str, Progress] = {}
        self._session: aiohttp.ClientSession | None = None

    def status(self, site: str) -> dict[str, Any] | None:
        """The site's membership as `GET /api/v1/sites/{site}/community` shows it (never the
        token); None when it takes part in no community."""
        membership = self.store.get(site)
        if membership is None:
            return None
        progress = self.progress.get(site)
        return {
            "site": site,
            "host": membership.host,
            "community": membership.community,
            "member": membership.member,
            **(progress.as_dict() if progress else {}),
        }

    def _announce(self, site: str) -> None:
        """A changed status to the site's events channel (planner.publish_membership)."""
        status = self.status(site)
        if status is not None and status != self._planner.membership(site):
            self._planner.publish_membership(site, status)

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        for membership in self.store.all():
            self._run(membership)

    async def close(self) -> None:
        for site in list(self._tasks):
            await self._stop(site)
        if self._session is not None:
            await self._session.close()

    async def take_part(self, membership: Membership) -> None:
        await self._stop(membership.site)
        self.store.put(membership)
        self._run(membership)

    async def leave(self, site: str) -> bool:
        membership = self.store.get(site)
        if membership is None:
            return False
        await self._stop(site)
        self.store.delete(site)
        self._planner.clear_community_signals(site)
        self.progress.pop(site, None)
        self._planner.publish_membership(site, None)
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            await self._request(membership, "DELETE", f"members/{membership.member}")
        return True

    def _run(self, membership: Membership) -> None:
        self.progress[membership.site] = Progress()
        self._tasks[membership.site] = asyncio.create_task(self._take_part(membership))

    async def _stop(self, site: str) -> None:
        task = self._tasks.pop(site, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _take_part(self, membership: Membership) -> None:
        site = membership.site
        progress = self.progress[site]
        plans = self._planner.subscribe(site)
        posted: tuple[int, list[float]] | None = None  # round and net profile last posted
        try:
            while True:
                try:
                    current = await self._request(membership, "GET", "rounds/current")
                    progress.round, progress.error = current["round"], None
                    signals = {k: v for k, v in current["signals"].items() if k in SIGNAL_KEYS}
                    if posted is None or posted[0] != current["round"]:
                        progress.status, progress.signals = "planning", signals
                        self._planner.set_community_signals(site, current["round"], signals)
                    plan = await _latest_plan(plans, current["round"], posted is None
                                              or posted[0] != current["round"])  # fmt: skip
                    if plan is not None:
                        profile = _profile(plan, current)
                        if posted != (current["round"], profile["net_power_kw"]):
                            await self._request(
                                membership, "PUT", f"members/{membership.member}/profile", profile
                            )
                            posted = (current["round"], profile["net_power_kw"])
                            progress.posted_at = time.time()
                    # Settled as the host says: converged, or stopped at its round limit.
                    status = current["status"]
                    progress.status = "posted" if status == "open" else status
                    progress.report = await self._request(membership, "GET", "report")
                    self._announce(site)
                    await asyncio.sleep(POLL_OPEN_S if status == "open" else POLL_SETTLED_S)
                except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
                    progress.status, progress.error = "error", _reason(error)
                    LOGGER.warning("site %s in community %s: %s", site, membership.community,
                                   progress.error)  # fmt: skip
                    self._announce(site)
                    await asyncio.sleep(RETRY_S)
        finally:
            self._planner.unsubscribe(site, plans)

    async def _request(
        self, membership: Membership, method: str, path: str, body: Any = None
    ) -> Any:
        assert self._session is not None
        url = f"{membership.host.rstrip('/')}/api/v1/communities/{membership.community}/{path}"
        headers = {"Authorization": f"Bearer {membership.token}"}
        async with self._session.request(method, url, json=body, headers=headers) as response:
            text = await response.text()
            if response.status >= 400:
                raise ValueError(f"the host answered {response.status}: {text[:300]}")
            return json.loads(text) if text else None


async def _latest_plan(
    plans: asyncio.Queue[dict[str, Any]], round_id: int, must_wait: bool
) -> dict[str, Any] | None:
    """The newest plan made with this round's signals: waited for after new signals, else
    whatever new plan is there (the site's own inputs changed)."""
    found = None
    deadline = time.monotonic() + (PLAN_WAIT_S if must_wait else 0.0)
    while True:
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
                event = await plans.get()
        except TimeoutError:
            return found
        if event.get("type") == "plan" and event.get("community_round") == round_id:
            found = event["plan"]
            deadline = time.monotonic()  # take what else is queued, then go


def _profile(plan: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The part of the plan in the round's window (a plan made earlier in the step may start
    before it); ValueError when they do not line up."""
    steps = current["steps"]
    step_s = _seconds(current["resolution"])
    offset_s = _epoch(current["start"]) - _epoch(plan["start"])
    first = round(offset_s / step_s)
    net = plan["site"]["net_power_kw"]
    if _seconds(plan["resolution"]) != step_s or abs(first * step_s - offset_s) > 1e-6:
        raise ValueError(
            f"the site plans in steps of {plan['resolution']} from {plan['start']}; the "
            f"community in steps of {current['resolution']} from {current['start']}"
        )
    if first < 0 or first + steps > len(net):
        raise ValueError(
            f"the site's plan ({plan['start']}, {len(net)} steps) does not cover the "
            f"community's window ({current['start']}, {steps} steps)"
        )
    window = slice(first, first + steps)
    section = plan.get("community") or {}
    profile = {"round": current["round"], "start": current["start"],
               "resolution": current["resolution"], "net_power_kw": net[window]}  # fmt: skip
    for key in ("consumption_marginal_value_eur_per_kw", "production_marginal_value_eur_per_kw"):
        if key in section:
            profile[key] = section[key][window]
    return profile


def _epoch(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def _seconds(resolution: str) -> float:
    return parse_duration(resolution, "resolution").total_seconds()


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__
