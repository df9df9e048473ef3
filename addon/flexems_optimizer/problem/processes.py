"""Processes (FlexMeasures' ProcessScheduler): a power profile run once, inside allowed time.

Keys: `power` with `duration`, or `profile` (a list of powers, one per plan step of the run);
`process-type` (FlexMeasures' name) or `policy`: INFLEXIBLE (default, as FlexMeasures) |
SHIFTABLE | BREAKABLE; `time-restrictions` (windows when it must not run); `earliest-start`;
`deadline` (the run must end by then); `optimization-sense` MIN (default) | MAX;
`consumption-price` (its own tariff).

As FlexMeasures: a duration that is not a whole number of steps is rounded up, and a run longer
than the plan runs in every step of it (the rest after the horizon); both are said in the
plan's notes. Unlike FlexMeasures, a step that a time restriction only partly covers is
restricted (FlexMeasures restricts the steps that start inside a restriction): a machine told
not to run from 17:30 does not run from 17:00 to 18:00 either.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from . import fields
from .errors import ProblemError, join_path
from .model import Process, ProcessPolicy
from .quantities import Dimension
from .reader import Reader
from .stock import own_price
from .timegrid import FloatArray
from .timing import parse_datetime, parse_duration

_KEYS = {
    "name", "type", "power", "duration", "profile", "policy", "process-type",
    "time-restrictions", "earliest-start", "deadline", "optimization-sense", "consumption-price",
}  # fmt: skip


def parse_process(
    entry: Mapping[str, Any], name: str, path: str, reader: Reader, notes: list[str]
) -> Process:
    fields.reject_unknown(entry, _KEYS, path)
    grid = reader.grid
    profile = _profile(entry, name, path, reader, notes)
    policy = _policy(entry, path)
    if policy is ProcessPolicy.BREAKABLE and np.ptp(profile) > 0:
        raise ProblemError(
            "invalid_value",
            "a BREAKABLE process runs at one power; give 'power' and 'duration'",
            join_path(path, "profile"),
        )
    sense = str(entry.get("optimization-sense", "MIN")).upper()
    if sense not in ("MIN", "MAX"):
        raise ProblemError(
            "invalid_value", "optimization-sense must be MIN or MAX",
            join_path(path, "optimization-sense"),
        )  # fmt: skip
    allowed = _allowed_steps(entry, path, reader)
    length = profile.size
    # A run may start at k if every step k..k+length−1 is allowed.
    runs = np.convolve(allowed.astype(np.int64), np.ones(length, dtype=np.int64), mode="valid")
    starts = np.flatnonzero(runs == length).astype(np.int64)
    fits = int(allowed.sum()) >= length if policy is ProcessPolicy.BREAKABLE else starts.size > 0
    if not fits:
        longest = _longest_run(allowed)
        window = f"between {grid.iso_at_boundary(0)} and {grid.iso_at_boundary(grid.n_steps)}"
        need = (
            f"{length} allowed steps"
            if policy is ProcessPolicy.BREAKABLE
            else f"{length} steps in a row"
        )
        have = (
            f"{int(allowed.sum())} steps are allowed"
            if policy is ProcessPolicy.BREAKABLE
            else f"the longest allowed run is {longest} steps"
        )
        raise ProblemError(
            "process_cannot_fit",
            f"{name} needs {need} ({length * grid.step_hours:g} h) {window}, outside its time "
            f"restrictions and within earliest-start and deadline; {have}",
            path,
        )
    return Process(
        name=name,
        path=path,
        profile_kw=profile,
        policy=policy,
        allowed_steps=allowed,
        allowed_starts=starts,
        maximize=sense == "MAX",
        own_price=own_price(entry, path, reader),
    )


def _policy(entry: Mapping[str, Any], path: str) -> ProcessPolicy:
    """`process-type` (FlexMeasures) or `policy` (the same, in flexems' first name for it)."""
    given = {key: entry[key] for key in ("process-type", "policy") if key in entry}
    if len({str(value).upper() for value in given.values()}) > 1:
        raise ProblemError(
            "conflicting_fields", "process-type and policy differ; give one",
            join_path(path, "process-type"),
        )  # fmt: skip
    key = next(iter(given), "process-type")
    try:
        return ProcessPolicy(str(given.get(key, "INFLEXIBLE")).upper())
    except ValueError:
        raise ProblemError(
            "invalid_value",
            f"{key} must be INFLEXIBLE, SHIFTABLE or BREAKABLE",
            join_path(path, key),
        ) from None


def _profile(
    entry: Mapping[str, Any], name: str, path: str, reader: Reader, notes: list[str]
) -> FloatArray:
    step_s = reader.grid.step.total_seconds()
    if "profile" in entry:
        if "power" in entry or "duration" in entry:
            raise ProblemError(
                "conflicting_fields", "give 'profile', or 'power' with 'duration'",
                join_path(path, "profile"),
            )  # fmt: skip
        raw = entry["profile"]
        if not isinstance(raw, list) or not raw:
            raise ProblemError(
                "invalid_type", "a profile is a non-empty list of powers, one per plan step",
                join_path(path, "profile"),
            )  # fmt: skip
        values = [
            reader.quantity(v, Dimension.POWER, join_path(join_path(path, "profile"), i))
            for i, v in enumerate(raw)
        ]
        profile = np.array(values)
    else:
        for key in ("power", "duration"):
            if key not in entry:
                raise ProblemError(
                    "missing_field", f"a process needs {key!r} (or a 'profile')",
                    join_path(path, key),
                )  # fmt: skip
        power = reader.quantity(entry["power"], Dimension.POWER, join_path(path, "power"))
        duration_s = parse_duration(entry["duration"], join_path(path, "duration")).total_seconds()
        if duration_s <= 0:
            raise ProblemError(
                "invalid_duration", "the duration must be positive", join_path(path, "duration")
            )
        steps = math.ceil(duration_s / step_s - 1e-9)
        if abs(steps * step_s - duration_s) > 1e-6:
            notes.append(
                f"{name}: its duration of {duration_s / 3600:g} h is not a whole number of "
                f"{step_s / 60:g}-minute steps: it runs for {steps} steps (rounded up, as "
                "FlexMeasures does)"
            )
        profile = np.full(steps, power)
    if (profile < 0).any():
        raise ProblemError(
            "negative_value", "a process consumes: powers must not be negative", path
        )
    if profile.size > reader.grid.n_steps:
        # As FlexMeasures: it runs in every step of the plan, and on after its end.
        after = profile.size - reader.grid.n_steps
        notes.append(
            f"{name}: its run of {profile.size} steps is longer than the plan's "
            f"{reader.grid.n_steps}: it runs in every step, and {after} more after the horizon"
        )
        profile = profile[: reader.grid.n_steps]
    return profile


def _allowed_steps(entry: Mapping[str, Any], path: str, reader: Reader) -> npt.NDArray[np.bool_]:
    """Steps wholly inside [earliest-start, deadline] and outside every time restriction."""
    boundaries = reader.grid.boundaries_s
    allowed = np.ones(reader.grid.n_steps, dtype=bool)
    if "earliest-start" in entry:
        earliest = parse_datetime(entry["earliest-start"], join_path(path, "earliest-start"))
        allowed &= boundaries[:-1] >= earliest.timestamp() - 1e-6
    if "deadline" in entry:
        deadline = parse_datetime(entry["deadline"], join_path(path, "deadline"))
        allowed &= boundaries[1:] <= deadline.timestamp() + 1e-6
    restrictions = entry.get("time-restrictions", [])
    key_path = join_path(path, "time-restrictions")
    if not isinstance(restrictions, list):
        raise ProblemError("invalid_type", "expected a list of {start, end|duration}", key_path)
    for i, window in enumerate(restrictions):
        start, end = reader.event_span(window, join_path(key_path, i))
        # Any overlap with a forbidden window forbids the step.
        allowed &= ~((boundaries[:-1] < end - 1e-6) & (boundaries[1:] > start + 1e-6))
    return allowed


def _longest_run(allowed: npt.NDArray[np.bool_]) -> int:
    longest = current = 0
    for ok in allowed.tolist():
        current = current + 1 if ok else 0
        longest = max(longest, current)
    return longest
