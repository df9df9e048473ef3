"""Processes (FlexMeasures' ProcessScheduler): a power profile run once, inside allowed time.

Keys: `power` with `duration`, or `profile` (a list of powers, one per plan step of the run);
`policy` INFLEXIBLE (default, as FlexMeasures) | SHIFTABLE | BREAKABLE; `time-restrictions`
(windows when it must not run); `earliest-start`; `deadline` (the run must end by then);
`optimization-sense` MIN (default) | MAX; `consumption-price` (its own tariff).
"""

from __future__ import annotations

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
    "name", "type", "power", "duration", "profile", "policy", "time-restrictions",
    "earliest-start", "deadline", "optimization-sense", "consumption-price",
}  # fmt: skip


def parse_process(entry: Mapping[str, Any], name: str, path: str, reader: Reader) -> Process:
    fields.reject_unknown(entry, _KEYS, path)
    grid = reader.grid
    profile = _profile(entry, path, reader)
    policy_raw = str(entry.get("policy", "INFLEXIBLE")).upper()
    try:
        policy = ProcessPolicy(policy_raw)
    except ValueError:
        raise ProblemError(
            "invalid_value",
            "policy must be INFLEXIBLE, SHIFTABLE or BREAKABLE",
            join_path(path, "policy"),
        ) from None
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


def _profile(entry: Mapping[str, Any], path: str, reader: Reader) -> FloatArray:
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
        steps = round(duration_s / step_s)
        if steps < 1 or abs(steps * step_s - duration_s) > 1e-6:
            raise ProblemError(
                "invalid_duration",
                f"the duration must be a whole number of {reader.grid.step_hours * 60:g}-minute "
                "steps",
                join_path(path, "duration"),
            )
        profile = np.full(steps, power)
    if (profile < 0).any():
        raise ProblemError(
            "negative_value", "a process consumes: powers must not be negative", path
        )
    if profile.size > reader.grid.n_steps:
        raise ProblemError("process_cannot_fit", "the run is longer than the plan's horizon", path)
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
