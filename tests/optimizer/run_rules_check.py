"""The run-time rules as a plan must keep them, checked from its reported powers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flexems_optimizer.problem.model import RunRules


def local_days(body: dict[str, Any], plan: dict[str, Any]) -> list[date]:
    """The calendar day each step starts in, at the UTC offset of the problem's start."""
    zone = datetime.fromisoformat(body["start"]).tzinfo
    return [datetime.fromisoformat(t).astimezone(zone).date() for t in plan["timestamps"]]


def assert_run_rules(rules: RunRules, on: list[bool], days: list[date]) -> int:
    """Every run-time rule holds in the reported plan (runs and pauses cut by the horizon's
    end may be shorter). Returns how many starts the plan has."""
    n = len(on)
    before = bool(rules.initial_on)
    assert all(state == before for state in on[: rules.initial_hold_steps])
    previous = [before, *on[:-1]]
    starts = [t for t in range(n) if on[t] and not previous[t]]
    stops = [t for t in range(n) if previous[t] and not on[t]]
    for t in starts:
        assert all(on[t : t + rules.min_run_steps]), (t, on)
    for t in stops:
        assert not any(on[t : t + rules.min_off_steps]), (t, on)
    if rules.max_starts is not None:
        assert len(starts) <= rules.max_starts
    if rules.max_starts_per_day is not None:
        for day in set(days):
            assert sum(days[t] == day for t in starts) <= rules.max_starts_per_day, (day, on)
    return len(starts)
