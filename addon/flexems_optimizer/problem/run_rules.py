"""Run-time rules of on/off devices (`min-run-time`, `min-off-time`, `max-starts`,
`start-cost`, `running-since` / `off-since`), read into plan steps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import ProblemError, join_path
from .model import NO_RUN_RULES, RunRules
from .quantities import Dimension
from .reader import Reader
from .timegrid import TimeGrid
from .timing import parse_datetime, parse_duration

RUN_KEYS = (
    "min-run-time",
    "min-off-time",
    "max-starts",
    "max-starts-per-day",
    "start-cost",
    "running-since",
    "off-since",
)
# A start costs wear: more than this per start is a typo (a price per MWh, say), not wear.
MAX_START_COST = 1e4


def parse_run_rules(
    entry: Mapping[str, Any], path: str, reader: Reader, *, on_off: bool
) -> RunRules:
    """min-run-time, min-off-time (ISO durations), max-starts (per horizon), max-starts-per-day
    (per calendar day at the start's UTC offset), start-cost and the state before the horizon
    (running-since or off-since, tz-aware times at or before the start). They need on/off
    operation (`on-off` or `min-power`): `on_off`."""
    given = [key for key in RUN_KEYS if key in entry]
    if not given:
        return NO_RUN_RULES
    if not on_off:
        raise ProblemError(
            "missing_field",
            f"{given[0]} applies to on/off operation: give on-off or min-power too",
            join_path(path, given[0]),
        )
    step_s = reader.grid.step.total_seconds()
    rules: dict[str, Any] = {}
    durations_s: dict[str, float] = {}
    for key, field in (("min-run-time", "min_run_steps"), ("min-off-time", "min_off_steps")):
        if key in entry:
            seconds = parse_duration(entry[key], join_path(path, key)).total_seconds()
            if seconds < 0:
                raise ProblemError(
                    "invalid_duration", f"{key} must not be negative", join_path(path, key)
                )
            durations_s[key] = seconds
            rules[field] = max(1, math.ceil(seconds / step_s - 1e-9))
    for key, field in (("max-starts", "max_starts"), ("max-starts-per-day", "max_starts_per_day")):
        if key in entry:
            starts = entry[key]
            if isinstance(starts, bool) or not isinstance(starts, int) or starts < 0:
                raise ProblemError(
                    "invalid_value", f"{key} is a whole number, 0 or more", join_path(path, key)
                )
            rules[field] = starts
    if "max-starts-per-day" in entry:
        rules["day_starts"] = day_starts(reader.grid)
    if "start-cost" in entry:
        cost_path = join_path(path, "start-cost")
        cost = reader.quantity(entry["start-cost"], Dimension.MONEY, cost_path)
        if not 0 <= cost <= MAX_START_COST:
            raise ProblemError(
                "invalid_value", f"start-cost is an amount per start from 0 to "
                f"{MAX_START_COST:g} in the problem's currency (e.g. \"0.5 EUR\"), got {cost:g}",
                cost_path,
            )  # fmt: skip
        rules["start_cost"] = cost
    if "running-since" in entry and "off-since" in entry:
        raise ProblemError(
            "conflicting_fields", "give running-since or off-since, not both",
            join_path(path, "off-since"),
        )  # fmt: skip
    for key, on, rule in (("running-since", True, "min-run-time"),
                          ("off-since", False, "min-off-time")):  # fmt: skip
        if key not in entry:
            continue
        since = parse_datetime(entry[key], join_path(path, key))
        elapsed_s = reader.grid.start.timestamp() - since.timestamp()
        if elapsed_s < -1e-6:
            raise ProblemError(
                "invalid_value", f"{key} is after the plan's start: it must be a time before",
                join_path(path, key),
            )  # fmt: skip
        left_s = durations_s.get(rule, 0.0) - elapsed_s
        rules["initial_on"] = on
        rules["initial_hold_steps"] = max(0, math.ceil(left_s / step_s - 1e-9))
    return RunRules(**rules)


def day_starts(grid: TimeGrid) -> tuple[int, ...]:
    """The steps (after the first) that begin a new calendar day, at the UTC offset of the
    plan's start (a step belongs to the day it starts in)."""
    offset = grid.start.utcoffset()
    offset_s = 0.0 if offset is None else offset.total_seconds()
    day = np.floor((grid.boundaries_s[:-1] + offset_s) / 86400.0)
    return tuple(int(step) for step in np.flatnonzero(np.diff(day)) + 1)
