"""Re-plan each site when it changes: debounced (a first change at once, a burst as one plan
of its latest problem), one plan per site at a time, every new plan pushed to whoever listens
(the integration's events channel)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..problem.errors import ProblemError
from ..s2.devices import S2Device, S2Devices
from ..s2.site_inputs import instructed_devices, with_s2_devices, with_s2_results
from ..store import iso_time
from ..workers import SolveStoppedError, WorkerDiedError
from .rolling import is_rolling, next_step_at, problem_at
from .store import SiteRecord, SiteStore

LOGGER = logging.getLogger(__name__)
DEBOUNCE_S = 1.0
LISTENER_BACKLOG = 4  # a slow listener needs the latest plans, not every one
# An RM waits for the CEM's reaction to its status: a site with S2 devices flexems instructs
# takes the best plan found after this much search rather than waiting for a proof (which can
# take 5-10 s). Measured on bench/s2_instructions.py's home in-process, against the best plan
# found in 10 s (16.60 EUR earned a day): up to 0.3 s of search is mostly the warm start
# (1.06 EUR a day less; 0.17 less once, with the prices in another phase), 0.5 s and 1 s
# earn 0.13 EUR less. Searched before the first instructions, the bench answered in p50 0.63 s.
S2_SEARCH_LIMIT_S = 0.5
# So the first plan after a change takes the warm start (the LP relaxation rounded and fixed)
# with hardly any search, and its instructions go out at once (bench: p95 0.17 s); the
# searched plan follows and replaces it when cheaper.
S2_QUICK_SEARCH_S = 0.01
# Without such devices a change reaches Home Assistant after this much search, and the plan of
# the add-on's whole search limit (10 s) follows when it is cheaper: a home whose plan is not
# proven in that time (an EV's minimum current under a peak price) showed a change after 10 s.
FIRST_SEARCH_S = 0.5

# (problem, search limit, choices of the site's earlier plan, when to end the search, whether to
# keep those choices' first step) -> outcome with this plan's choices
Solve = Callable[
    [dict[str, Any], float | None, dict[str, Any] | None, asyncio.Event | None, bool],
    Awaitable[dict[str, Any]],
]
Event = dict[str, Any]


class SitePlanner:
    def __init__(
        self,
        store: SiteStore,
        solve: Solve,
        devices: S2Devices,
        debounce_s: float = DEBOUNCE_S,
        search_limit_s: float = math.inf,
    ) -> None:
        self.store = store
        self.devices = devices
        self._solve = solve
        self.debounce_s = debounce_s
        self.search_limit_s = search_limit_s  # the add-on's: what `solve` searches at most
        self._changed: set[str] = set()
        self._planning: dict[str, asyncio.Task[None]] = {}
        self._stops: dict[str, asyncio.Event] = {}  # set to end a site's longer search early
        self._next_step: dict[str, asyncio.TimerHandle] = {}
        self._listeners: dict[str, set[asyncio.Queue[Event]]] = {}
        self._memberships: dict[str, dict[str, Any]] = {}  # as last published, per site
        self._last_start: dict[str, float] = {}  # monotonic time each site's last plan began
        self._news: dict[str, asyncio.Event] = {}  # set when a site's planning ends
        # A community's signals per site (flex-context fields) and the round they are of.
        self._community: dict[str, tuple[int, dict[str, Any]]] = {}

    def start(self) -> None:
        """Plan every kept site again (after a restart their plans are out of date)."""
        for site in self.store.ids():
            self.changed(site)

    async def close(self) -> None:
        for handle in self._next_step.values():
            handle.cancel()
        tasks = list(self._planning.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def changed(self, site: str) -> None:
        """Something about the site changed: plan it after the debounce, or again after the
        plan under way."""
        self._changed.add(site)
        if (stop := self._stops.get(site)) is not None:
            stop.set()  # its plan would be of the older problem: the change's goes first
        if site not in self._planning:
            self._planning[site] = asyncio.create_task(self._plan_while_changed(site))

    def removed(self, site: str) -> None:
        self._changed.discard(site)
        if (handle := self._next_step.pop(site, None)) is not None:
            handle.cancel()
        if (task := self._planning.get(site)) is not None:
            task.cancel()
        self._publish(site, {"type": "site_removed", "site": site})

    def devices_changed(self, site: str) -> None:
        """An S2 device came or went without a change to the plan: tell the listeners."""
        summaries = [device.summary() for device in self.of_site(site)]
        self._publish(site, {"type": "s2_devices", "site": site, "s2_devices": summaries})

    def set_community_signals(self, site: str, round_id: int, signals: dict[str, Any]) -> None:
        """Plan the site with a community round's signals from now on (and re-plan it)."""
        self._community[site] = (round_id, signals)
        self.changed(site)

    def clear_community_signals(self, site: str) -> None:
        if self._community.pop(site, None) is not None:
            self.changed(site)

    def of_site(self, site: str) -> list[S2Device]:
        return self.devices.of_site(site)

    def subscribe(self, site: str) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue(LISTENER_BACKLOG)
        self._listeners.setdefault(site, set()).add(queue)
        return queue

    def unsubscribe(self, site: str, queue: asyncio.Queue[Event]) -> None:
        listeners = self._listeners.get(site, set())
        listeners.discard(queue)
        if not listeners:
            self._listeners.pop(site, None)

    async def _plan_while_changed(self, site: str) -> None:
        """A change after a quiet spell is planned at once; changes that follow within the
        debounce wait for its end and make one plan of the latest problem."""
        try:
            while site in self._changed:
                since = time.monotonic() - self._last_start.get(site, -math.inf)
                await asyncio.sleep(max(self.debounce_s - since, 0.0))
                self._changed.discard(site)
                self._last_start[site] = time.monotonic()
                record = self.store.get(site)
                if record is None:
                    return
                await self._plan(record)
        finally:
            self._planning.pop(site, None)

    async def _plan(self, record: SiteRecord) -> None:
        """Plan the site: first after a short search, so the plan follows a change at once
        (with S2 devices flexems instructs, the warm start's plan, whose instructions go out
        without waiting for a search); then, while that plan is not proven and nothing else
        changed, with a longer search from its choices, kept when it finds a cheaper plan."""
        now = time.time()
        site = record.id
        devices = self.of_site(site)
        # Each plan starts from the on/off choices of the site's last plan (kept in the store,
        # so also after a restart).
        earlier = record.choices
        shown: dict[str, Any] | None = None
        for search in self._searches(devices):
            # A search after the first ends early when the site changes meanwhile, and keeps
            # what the first plan does now (it may be carried out already).
            stop = None if shown is None else self._stops.setdefault(site, asyncio.Event())
            try:
                outcome, devices = await self._outcome(record, now, devices, search, earlier, stop)
            finally:
                self._stops.pop(site, None)
            plan = outcome.get("plan")
            # The first outcome is kept whatever it is (a plan, or why there is none); a later
            # one when cheaper and still of the latest problem.
            if shown is None or (_cheaper(plan, shown) and site not in self._changed):
                self._keep(record, outcome, devices)
                shown, earlier = plan, outcome.get("choices") or earlier
            if shown is None or shown["solver"]["proven_optimal"] or site in self._changed:
                break
        if is_rolling(record.problem):
            self._replan_at_next_step(site, next_step_at(record.problem, now))

    async def _outcome(
        self,
        record: SiteRecord,
        now: float,
        devices: list[S2Device],
        search: float | None,
        earlier: dict[str, Any] | None,
        stop: asyncio.Event | None = None,
    ) -> tuple[dict[str, Any], list[S2Device]]:
        """{"plan": ...} or {"error": ...} for the site's problem now."""
        community = self._community.get(record.id)
        try:
            problem = problem_at(record.problem, now)
            if community is not None:
                problem = with_community_signals(problem, community[1])
            outcome, devices = await self._solve_with_devices(
                problem, devices, search, earlier, stop
            )
            if "plan" in outcome:
                outcome["plan"] = with_s2_results(outcome["plan"], devices)
        except ProblemError as error:
            outcome = error.as_dict()
        except SolveStoppedError as error:
            outcome = {"error": {"code": "time_limit", "message": str(error), "path": ""}}
        except WorkerDiedError as error:
            outcome = {"error": {"code": "worker_died", "message": str(error), "path": ""}}
        return outcome, devices

    def _keep(self, record: SiteRecord, outcome: dict[str, Any], devices: list[S2Device]) -> None:
        """Store the plan (or the failure) and tell the listeners."""
        site = record.id
        community = self._community.get(site)
        if "plan" in outcome:
            planned_at = time.time()
            self.store.planned(
                site, record.revision, outcome["plan"], planned_at, outcome.get("choices")
            )
            event = plan_event(site, record.revision, planned_at, outcome["plan"], devices)
            if community is not None:
                event["community_round"] = community[0]
            self._publish(site, event)
        else:
            LOGGER.warning("site %s: no plan: %s", site, outcome["error"]["message"])
            self.store.failed(site, record.revision, outcome["error"])
            failed = {"type": "plan_failed", "site": site, "revision": record.revision}
            self._publish(site, {**failed, "error": outcome["error"]})

    async def _solve_with_devices(
        self,
        problem: dict[str, Any],
        devices: list[S2Device],
        search: float | None,
        earlier: dict[str, Any] | None,
        stop: asyncio.Event | None,
    ) -> tuple[dict[str, Any], list[S2Device]]:
        """Plan the site with its S2 devices. A device whose part is refused (what it said
        cannot be planned) is left out, with a note, rather than failing the home's plan."""
        notes = []
        while True:
            try:
                problem_now = with_s2_devices(problem, devices)
                outcome = await self._solve(problem_now, search, earlier, stop, stop is not None)
            except ProblemError as error:
                culprit = next(
                    (d for d in devices if _within(error.path, _entry_path(problem, devices, d))),
                    None,
                )
                if culprit is None:
                    raise
                LOGGER.warning("S2 device %s left out of the plan: %s", culprit.resource_id, error)
                notes.append(f"S2 device {culprit.resource_id} left out: {error}")
                devices = [d for d in devices if d is not culprit]
                continue
            if notes and "plan" in outcome:
                outcome["plan"]["notes"] = [*outcome["plan"].get("notes", []), *notes]
            return outcome, devices

    def _searches(self, devices: list[S2Device]) -> tuple[float | None, ...]:
        """The search limits of a plan's solves, each made when the one before did not prove
        its plan (None: the add-on's own limit)."""
        if instructed_devices(devices):
            return (S2_QUICK_SEARCH_S, S2_SEARCH_LIMIT_S)
        if self.search_limit_s <= FIRST_SEARCH_S:
            return (None,)
        return (FIRST_SEARCH_S, None)

    def _replan_at_next_step(self, site: str, at: float) -> None:
        """A rolling site's plan starts at the current step: the next step is a change."""
        if (handle := self._next_step.pop(site, None)) is not None:
            handle.cancel()
        delay = max(at - time.time(), 0.0)
        self._next_step[site] = asyncio.get_running_loop().call_later(delay, self.changed, site)

    async def wait_for(self, site: str, revision: int, timeout_s: float) -> SiteRecord | None:
        """The site once its problem `revision` (or a later one) is planned or has failed,
        or as it is after `timeout_s`; None if it does not exist."""
        deadline = time.monotonic() + timeout_s
        while True:
            record = self.store.get(site)
            if record is None or planning_ended(record, revision):
                return record
            news = self._news.setdefault(site, asyncio.Event())
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
                    await news.wait()
            except TimeoutError:
                return self.store.get(site)

    def publish_membership(self, site: str, membership: dict[str, Any] | None) -> None:
        """What the site's membership of a community says now (community/membership.py; None:
        it left), for the events channel: Home Assistant's community sensors follow it without
        polling. Not news of the site's plan (`wait_for` keeps waiting)."""
        if membership is None:
            self._memberships.pop(site, None)
        else:
            self._memberships[site] = membership
        self._send(site, _community_event(site, membership))

    def membership(self, site: str) -> dict[str, Any] | None:
        """The membership last published for the site (None: it takes part in none)."""
        return self._memberships.get(site)

    def membership_event(self, site: str) -> Event | None:
        """The last `community` event of a site that takes part in a community, for a listener
        that connects now."""
        membership = self._memberships.get(site)
        return None if membership is None else _community_event(site, membership)

    def _publish(self, site: str, event: Event) -> None:
        if (news := self._news.pop(site, None)) is not None:
            news.set()
        self._send(site, event)

    def _send(self, site: str, event: Event) -> None:
        for queue in self._listeners.get(site, set()):
            if queue.full():
                queue.get_nowait()  # drop the oldest
            queue.put_nowait(event)


def with_community_signals(problem: dict[str, Any], signals: dict[str, Any]) -> dict[str, Any]:
    """The problem with a community's signals in its flex-context (replacing any before)."""
    context = {
        key: value for key, value in (problem.get("flex-context") or {}).items()
        if not key.startswith("community-")
    }  # fmt: skip
    taken = {key: value for key, value in signals.items() if key.startswith("community-")}
    return {**problem, "flex-context": {**context, **taken}}


def _entry_path(problem: dict[str, Any], devices: list[S2Device], device: S2Device) -> str:
    """The flex-model path of an instructed S2 device's entry (after the site's own entries)."""
    model = problem.get("flex-model", [])
    own = 1 if isinstance(model, dict) else len(model)
    instructed = instructed_devices(devices)
    if device not in instructed:
        return "\0"  # matches no path
    return f"flex-model[{own + instructed.index(device)}]"


def _within(path: str, entry: str) -> bool:
    return path == entry or path.startswith((entry + ".", entry + "["))


def _cheaper(plan: dict[str, Any] | None, than: dict[str, Any]) -> bool:
    return plan is not None and plan["costs"]["total_eur"] < than["costs"]["total_eur"] - 1e-6


def planning_ended(record: SiteRecord, revision: int) -> bool:
    """Is problem `revision` (or a later one) planned, or has its planning failed?"""
    return any(
        done is not None and done >= revision
        for done in (record.plan_revision, record.failed_revision)
    )


def plan_event(
    site: str, revision: int, planned_at: float, plan: dict[str, Any], devices: list[S2Device]
) -> Event:
    return {"type": "plan", "site": site, "revision": revision,
            "planned_at": iso_time(planned_at), "plan": plan,
            "s2_devices": [device.summary() for device in devices]}  # fmt: skip


def _community_event(site: str, membership: dict[str, Any] | None) -> Event:
    return {"type": "community", "site": site, "community": membership}
