"""A community's host in the service: rounds over a rolling window, members' profiles in,
each member's signals out (`coordinator.next_round`, the code `community simulate` runs).

A cycle starts when the window moves to a new step or the members change: round 0 asks every
member for its own plan, each later round for its plan with its new signals. A round ends when
every member has posted for it, or after the round timeout: a member that missed it counts with
its last profile (zeros if it has none in this window) and is marked stale. A converged cycle
waits for the next step, or opens again when a member's inputs change its profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from ..problem import fields
from ..problem.errors import ProblemError, join_path
from ..problem.timegrid import TimeGrid
from ..problem.timing import parse_duration
from ..store import iso_time
from .coordinator import (
    Reports,
    SharedCapacity,
    first_round,
    next_round,
    over_capacity_kw,
    shifted,
)
from .policy import Policy, parse_policy
from .signals import MemberSignals
from .spec import parse_capacity
from .state import round_from_json, round_to_json
from .store import CommunityStore, MemberRecord, Profile

LOGGER = logging.getLogger(__name__)
ROUND_TIMEOUT_S = 30.0
INVITE_S = 24 * 3600.0
TICK_S = 0.5
MAX_STEPS = 2016
MAX_MEMBERS = 1000
MAX_MEMBER_KW = 10_000.0  # a home's net power beyond this is absurd


@dataclass(frozen=True)
class Settings:
    name: str
    capacity: Mapping[str, Any]
    step_s: float
    steps: int
    policy: Policy
    round_timeout_s: float

    def grid(self, start: float) -> TimeGrid:
        return TimeGrid(
            datetime.fromtimestamp(start, UTC), timedelta(seconds=self.step_s), self.steps
        )


def parse_settings(raw: object) -> tuple[dict[str, Any], Settings]:
    """A community's settings as given (to store) and parsed; `ProblemError` names the field."""
    body = fields.mapping(raw, "")
    fields.reject_unknown(
        body, {"name", "capacity", "resolution", "horizon", "policy", "round-timeout"}, ""
    )
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ProblemError("invalid_type", "a community needs a name (1 to 100 characters)", "name")
    step = parse_duration(body.get("resolution", "PT15M"), "resolution").total_seconds()
    horizon = parse_duration(body.get("horizon", "PT24H"), "horizon").total_seconds()
    if step <= 0 or 86400 % step:
        raise ProblemError("invalid_value", "the resolution must divide a day", "resolution")
    steps = round(horizon / step)
    if steps < 1 or steps > MAX_STEPS or abs(steps * step - horizon) > 1e-6:
        raise ProblemError(
            "invalid_value",
            f"the horizon must be 1 to {MAX_STEPS} whole steps of the resolution",
            "horizon",
        )
    timeout = body.get("round-timeout", ROUND_TIMEOUT_S)
    if isinstance(timeout, str):
        timeout = parse_duration(timeout, "round-timeout").total_seconds()
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 1 <= timeout <= 3600
    ):
        raise ProblemError("invalid_value", "from 1 s to 1 h", "round-timeout")
    settings = Settings(
        name=name.strip(),
        capacity=fields.mapping(body.get("capacity"), "capacity"),
        step_s=step,
        steps=steps,
        policy=parse_policy(body.get("policy")),
        round_timeout_s=float(timeout),
    )
    _capacity(settings, _window_start(time.time(), step))  # it must read on a real grid
    return dict(body), settings


def _window_start(now: float, step_s: float) -> float:
    return math.floor(now / step_s) * step_s


def _capacity(settings: Settings, start: float) -> SharedCapacity:
    return parse_capacity(settings.capacity, settings.grid(start), "capacity")


class CommunityHost:
    def __init__(self, store: CommunityStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock
        self._ticker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._ticker = asyncio.create_task(self._tick_forever())

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker

    # The host's side -----------------------------------------------------------------------

    def create(self, raw: object) -> str:
        body, _ = parse_settings(raw)
        return self.store.create(body, self._clock())

    def settings(self, community: str) -> Settings | None:
        raw = self.store.settings(community)
        return None if raw is None else parse_settings(raw)[1]

    def invite(self, community: str, valid_s: float = INVITE_S) -> tuple[str, float]:
        return self.store.invite(community, self._clock(), valid_s)

    def overview(self, community: str) -> dict[str, Any]:
        """What the host sees: members, the round, the aggregate, breaches (never a member's
        own profile)."""
        settings, state = self._current(community)
        now = self._clock()
        profiles = self.store.profiles(community)
        members = self.store.members(community)
        capacity = _capacity(settings, state["window_start"])
        aggregate, over = self._aggregate(settings, state, capacity, members, profiles)
        grid = settings.grid(state["window_start"])
        return {
            **self._round_body(community, settings, state),
            "name": settings.name,
            "members": [
                {
                    "member": m.id,
                    "name": m.name,
                    "joined_at": iso_time(m.joined_at),
                    "last_seen": iso_time(m.last_seen),
                    "stale": self._is_stale(m.id, state, profiles),
                }
                for m in members
            ],
            "aggregate_kw": _rounded(aggregate),
            "capacity": self._capacity_body(capacity),
            "breaches": [
                {"at": grid.iso_at_boundary(int(t)), "over_kw": round(float(over[t]), 6)}
                for t in np.flatnonzero(over > 1e-3)
            ],
            "checked_at": iso_time(now),
        }

    def remove(self, community: str, member: str) -> bool:
        removed = self.store.leave(community, member, self._clock())
        if removed:
            self._new_cycle(community, self._clock())
        return removed

    # A member's side -------------------------------------------------------------------------

    def join(self, community: str, code: str, name: str) -> tuple[str, str] | None:
        if len(self.store.members(community)) >= MAX_MEMBERS:
            raise ProblemError("too_many_members", f"a community has at most {MAX_MEMBERS}", "")
        joined = self.store.join(community, code, name, self._clock())
        if joined is not None:
            self._new_cycle(community, self._clock())
        return joined

    def member(self, token: str) -> MemberRecord | None:
        return self.store.member_by_token(token)

    def current_round(self, community: str, member: str) -> dict[str, Any]:
        """The round, its window and this member's signals (as flex-context fields)."""
        settings, state = self._current(community)
        self.store.seen(member, self._clock())
        members = state["members"]
        cycle = round_from_json(state["cycle"])
        signals: dict[str, Any] = {}
        if member in members:
            i = members.index(member)
            own = MemberSignals(cycle.price[i], cycle.consumption_kw[i], cycle.production_kw[i])
            signals = own.as_flex_context(settings.grid(state["window_start"]))
        profile = self.store.profiles(community).get(member)
        posted = (
            profile is not None
            and profile.round == state["round"]
            and profile.window_start == state["window_start"]
        )
        return {**self._round_body(community, settings, state), "member": member,
                "signals": signals, "posted": posted}  # fmt: skip

    def post(self, community: str, member: str, body: object) -> dict[str, Any]:
        """A member's profile for the current round; `ProblemError` (422) names what is wrong."""
        settings, state = self._current(community)
        profile = _profile(body, member, settings, state, self._clock())
        before = self.store.profiles(community).get(member)
        self.store.post(community, profile)
        self.store.seen(member, self._clock())
        changed = before is None or before.net_kw != profile.net_kw
        if state["status"] != "open" and changed:
            self._advance(community, settings, state, self._clock())  # its inputs changed
        elif state["status"] == "open" and self._all_posted(community, state):
            self._advance(community, settings, state, self._clock())
        return self._round_body(community, settings, self._current(community)[1])

    def report(self, community: str, member: str) -> dict[str, Any]:
        """The community's aggregate, peak, capacity and self-consumption, and this member's
        part at the peak and its signals: never another member's profile."""
        settings, state = self._current(community)
        members = self.store.members(community)
        profiles = self.store.profiles(community)
        capacity = _capacity(settings, state["window_start"])
        aggregate, over = self._aggregate(settings, state, capacity, members, profiles)
        peak_step = int(np.argmax(aggregate)) if aggregate.size else 0
        own = profiles.get(member)
        own_net = np.asarray(own.net_kw) if own is not None and own.window_start == \
            state["window_start"] else np.zeros(settings.steps)  # fmt: skip
        exports = sum(
            (np.maximum(-np.asarray(p.net_kw), 0.0) for p in profiles.values()
             if p.window_start == state["window_start"]),
            start=np.zeros(settings.steps),
        )  # fmt: skip
        imports = exports + aggregate
        shared = np.minimum(exports, imports).sum()
        grid = settings.grid(state["window_start"])
        return {
            **self._round_body(community, settings, state),
            "member": member,
            "aggregate_kw": _rounded(aggregate),
            "peak_kw": round(float(aggregate.max(initial=0.0)), 6),
            "peak_at": grid.iso_at_boundary(peak_step),
            "capacity": self._capacity_body(capacity),
            "over_capacity_kwh": round(float(over.sum()) * settings.step_s / 3600, 6),
            # Of what the members export, the share other members use at the same step.
            "self_consumption": round(float(shared / exports.sum()), 6) if exports.sum() else None,
            "contribution_at_peak_kw": round(float(own_net[peak_step]), 6),
            "signals": self.current_round(community, member)["signals"],
        }

    # The rounds -------------------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            for community in self.store.ids():
                try:
                    self.tick(community)
                except Exception:  # one community's trouble must not stop the others
                    LOGGER.exception("community %s: the round could not advance", community)

    def tick(self, community: str) -> None:
        """Move to the new window, or end a round that has waited its time."""
        settings, state = self._current(community)
        now = self._clock()
        waited = now - state["opened_at"]
        if state["status"] == "open" and waited >= settings.round_timeout_s:
            self._advance(community, settings, state, now)

    def _current(self, community: str) -> tuple[Settings, dict[str, Any]]:
        settings = self.settings(community)
        if settings is None:
            raise KeyError(community)
        state = self.store.state(community)
        now = self._clock()
        members = [m.id for m in self.store.members(community)]
        window = _window_start(now, settings.step_s)
        if state is None or state["window_start"] != window or state["members"] != members:
            state = self._new_cycle(community, now, state)
        return settings, state

    def _new_cycle(
        self, community: str, now: float, state: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        settings = self.settings(community)
        assert settings is not None
        state = state if state is not None else self.store.state(community)
        members = [m.id for m in self.store.members(community)]
        window = _window_start(now, settings.step_s)
        cycle = first_round(len(members), settings.steps)
        if state is not None and state["members"] == members:
            # The window moved on, the members are the same: start from where the last cycle
            # ended, so the homes never plan a step without signals (and converge in a round
            # or two instead of a cycle).
            moved = round((window - state["window_start"]) / settings.step_s)
            if 0 < moved < settings.steps:
                cycle = shifted(round_from_json(state["cycle"]), moved)
        fresh = {
            "window_start": window,
            "round": (state["round"] + 1) if state else 1,
            "first_round": (state["round"] + 1) if state else 1,
            "members": members,
            "cycle": round_to_json(cycle),
            "opened_at": now,
            "status": "open",
        }
        self.store.save_state(community, fresh)
        return fresh

    def _advance(
        self, community: str, settings: Settings, state: dict[str, Any], now: float
    ) -> None:
        cycle = replace(round_from_json(state["cycle"]), converged=False)
        profiles = self.store.profiles(community)
        net, consumption, production = (np.zeros((len(state["members"]), settings.steps))
                                        for _ in range(3))  # fmt: skip
        for i, member in enumerate(state["members"]):
            profile = profiles.get(member)
            if profile is None or profile.window_start != state["window_start"]:
                continue  # nothing from it in this window: it counts as nothing
            net[i] = profile.net_kw
            consumption[i] = profile.consumption_value or 0.0
            production[i] = profile.production_value or 0.0
        capacity = _capacity(settings, state["window_start"])
        following = next_round(
            settings.policy, capacity, cycle, Reports(net, consumption, production)
        )
        if following.converged:
            state = {**state, "cycle": round_to_json(following), "status": "converged"}
        elif following.number == cycle.number:
            state = {**state, "cycle": round_to_json(following), "status": "round_limit"}
        else:
            state = {**state, "cycle": round_to_json(following), "round": state["round"] + 1,
                     "opened_at": now, "status": "open"}  # fmt: skip
        self.store.save_state(community, state)

    def _all_posted(self, community: str, state: dict[str, Any]) -> bool:
        profiles = self.store.profiles(community)
        return all(
            (p := profiles.get(member)) is not None
            and p.round == state["round"]
            and p.window_start == state["window_start"]
            for member in state["members"]
        )

    def _is_stale(self, member: str, state: dict[str, Any], profiles: dict[str, Profile]) -> bool:
        """Did it miss the last round that ended in this window (counted with its last
        profile, or as nothing)?"""
        ended = state["round"] - 1 if state["status"] == "open" else state["round"]
        if ended < state["first_round"]:
            return False
        profile = profiles.get(member)
        in_window = profile is not None and profile.window_start == state["window_start"]
        return not in_window or profile is None or profile.round < ended

    def _aggregate(
        self, settings: Settings, state: dict[str, Any], capacity: SharedCapacity,
        members: list[MemberRecord], profiles: dict[str, Profile],
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:  # fmt: skip
        current = [profiles[m.id] for m in members if m.id in profiles
                   and profiles[m.id].window_start == state["window_start"]]  # fmt: skip
        net = np.vstack([p.net_kw for p in current]) if current else np.zeros((1, settings.steps))
        return net.sum(axis=0), over_capacity_kw(capacity, net)

    def _capacity_body(self, capacity: SharedCapacity) -> dict[str, Any]:
        return {
            "consumption_kw": _rounded(capacity.consumption_kw),
            "production_kw": _rounded(capacity.production_kw),
        }

    def _round_body(
        self, community: str, settings: Settings, state: dict[str, Any]
    ) -> dict[str, Any]:
        grid = settings.grid(state["window_start"])
        return {
            "community": community,
            "round": state["round"],
            "round_in_cycle": round_from_json(state["cycle"]).number,
            "status": state["status"],  # open, converged, round_limit
            "start": grid.iso_at_boundary(0),
            "resolution": f"PT{int(settings.step_s)}S",
            "steps": settings.steps,
            "opened_at": iso_time(state["opened_at"]),
            "round_timeout_s": settings.round_timeout_s,
        }


def _profile(
    raw: object, member: str, settings: Settings, state: dict[str, Any], now: float
) -> Profile:
    body = fields.mapping(raw, "")
    fields.reject_unknown(body, {"round", "start", "resolution", "net_power_kw",
                                 "consumption_marginal_value_eur_per_kw",
                                 "production_marginal_value_eur_per_kw"}, "")  # fmt: skip
    if body.get("round") != state["round"]:
        raise ProblemError(
            "wrong_round", f"the current round is {state['round']}, not {body.get('round')!r}",
            "round",
        )  # fmt: skip
    grid = settings.grid(state["window_start"])
    start = body.get("start")
    try:
        same_start = datetime.fromisoformat(str(start)).timestamp() == state["window_start"]
    except ValueError:
        same_start = False
    if not same_start:
        raise ProblemError(
            "wrong_start", f"the round's window starts {grid.iso_at_boundary(0)}", "start"
        )
    resolution = parse_duration(body.get("resolution"), "resolution").total_seconds()
    if resolution != settings.step_s:
        raise ProblemError(
            "wrong_resolution", f"the community plans in steps of {settings.step_s:g} s",
            "resolution",
        )  # fmt: skip
    net = _series(body.get("net_power_kw"), settings.steps, "net_power_kw", signed=True)
    values = [
        None if body.get(key) is None else _series(body[key], settings.steps, key, signed=False)
        for key in ("consumption_marginal_value_eur_per_kw",
                    "production_marginal_value_eur_per_kw")
    ]  # fmt: skip
    return Profile(member, state["round"], state["window_start"], net, values[0], values[1], now)


def _series(raw: object, steps: int, path: str, *, signed: bool) -> list[float]:
    if not isinstance(raw, list):
        raise ProblemError("invalid_type", "expected a list of numbers, one per step", path)
    if len(raw) != steps:
        raise ProblemError(
            "wrong_length", f"expected {steps} values (one per step), got {len(raw)}", path
        )
    values = []
    for i, value in enumerate(raw):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ProblemError("invalid_quantity", "expected a finite number", join_path(path, i))
        if abs(value) > MAX_MEMBER_KW or (not signed and value < 0):
            limit = f"within ±{MAX_MEMBER_KW:g}" if signed else f"from 0 to {MAX_MEMBER_KW:g}"
            raise ProblemError("out_of_range", f"expected a number {limit}", join_path(path, i))
        values.append(float(value))
    return values


def _rounded(values: np.ndarray[Any, Any]) -> list[float | None]:
    return [None if not math.isfinite(v) else round(float(v), 6) for v in values]
