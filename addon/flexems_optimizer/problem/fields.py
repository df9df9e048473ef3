"""Readers for flex-model fields shared by the device kinds (each checks and names its path)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .errors import ProblemError, join_path
from .model import SocTarget
from .quantities import Dimension
from .reader import Reader
from .timegrid import FloatArray, TimeGrid
from .timing import iso_utc, parse_datetime, parse_duration


def mapping(raw: object, path: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ProblemError("invalid_type", f"expected an object, got {type(raw).__name__}", path)
    return raw


def reject_unknown(mapping: Mapping[str, Any], known: set[str], path: str) -> None:
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ProblemError(
                "unknown_field", f"unknown field {key!r}{hint}", join_path(path, key)
            )


def boolean(mapping: Mapping[str, Any], key: str, default: bool, path: str) -> bool:
    value = mapping.get(key, default)
    if not isinstance(value, bool):
        raise ProblemError("invalid_type", "expected true or false", join_path(path, key))
    return value


def non_negative(values: FloatArray, path: str, what: str) -> FloatArray:
    negative = np.flatnonzero(values < 0)
    if negative.size:
        raise ProblemError("negative_value", f"{what} must not be negative", path)
    return values


def series_or_inf(
    reader: Reader, mapping: Mapping[str, Any], key: str, dimension: Dimension, path: str
) -> FloatArray:
    """An optional limit series: inf where not given."""
    if mapping.get(key) is None:
        return np.full(reader.grid.n_steps, np.inf)
    values = reader.series(mapping[key], dimension, join_path(path, key), required=False)
    non_negative(np.nan_to_num(values), join_path(path, key), key)
    return np.where(np.isnan(values), np.inf, values)


def within(value: float, low: float, high: float, what: str, path: str) -> None:
    if value < low - 1e-9:
        raise ProblemError(
            "inconsistent_bounds", f"{what} {value:g} kWh is below soc-min {low:g} kWh", path
        )
    if value > high + 1e-9:
        raise ProblemError(
            "inconsistent_bounds", f"{what} {value:g} kWh is above soc-max {high:g} kWh", path
        )


def check_profile(
    profile: FloatArray, low: float, high: float, what: str, path: str, grid: TimeGrid
) -> None:
    outside = np.flatnonzero((profile < low - 1e-9) | (profile > high + 1e-9))
    if outside.size:
        j = int(outside[0])
        raise ProblemError(
            "inconsistent_bounds",
            f"{what} {profile[j]:g} kWh at {grid.iso_at_boundary(j + 1)} is outside "
            f"[soc-min {low:g}, soc-max {high:g}] kWh",
            path,
        )


def state_index(reader: Reader, moment_s: float) -> int | None:
    """The state a soc constraint at `moment_s` applies to: the last step end at or before it.

    A moment inside the first step applies to the end of the first step (the earliest state a
    plan can change); moments before the start or after the end have no state (None).
    """
    grid = reader.grid
    offset = (moment_s - grid.boundaries_s[0]) / grid.step.total_seconds()
    if offset < -1e-9 or offset > grid.n_steps + 1e-9:
        return None
    return max(1, math.floor(float(offset) + 1e-9)) - 1


def soc_targets(
    entry: Mapping[str, Any],
    path: str,
    reader: Reader,
    energy: Any,
    notes: list[str],
    name: str,
    key: str = "soc-targets",
) -> list[SocTarget]:
    raw = entry.get(key)
    if raw is None:
        return []
    key_path = join_path(path, key)
    if not isinstance(raw, list):
        raise ProblemError("invalid_type", "expected a list of {datetime, value}", key_path)
    targets: list[SocTarget] = []
    for i, item in enumerate(raw):
        item_path = join_path(key_path, i)
        item_map = mapping(item, item_path)
        if "value" not in item_map:
            raise ProblemError("missing_field", "a soc-target needs a 'value'", item_path)
        value = energy(item_map["value"], join_path(item_path, "value"))
        for moment_s in moments(item_map, item_path, reader):
            state = state_index(reader, moment_s)
            if state is None:
                notes.append(
                    f"{name}: soc-target at {iso_utc(moment_s)} is outside the plan and was ignored"
                )
                continue
            targets.append(SocTarget(state_index=state, value_kwh=value, source_index=i))
    return targets


def moments(item: Mapping[str, Any], path: str, reader: Reader) -> Iterable[float]:
    """The state times an entry covers: one `datetime`, or every step end in [start, end]."""
    if "datetime" in item:
        yield parse_datetime(item["datetime"], join_path(path, "datetime")).timestamp()
        return
    start, end = reader.event_span(item, path)
    boundaries = reader.grid.boundaries_s[1:]
    yield from boundaries[(boundaries >= start - 1e-6) & (boundaries <= end + 1e-6)].tolist()


def soc_profile(
    entry: Mapping[str, Any],
    key: str,
    path: str,
    reader: Reader,
    energy: Any,
    notes: list[str],
    name: str,
) -> FloatArray:
    """soc-minima / soc-maxima as a per-state array (NaN where unconstrained)."""
    n = reader.grid.n_steps
    profile = np.full(n, np.nan)
    raw = entry.get(key)
    if raw is None:
        return profile
    key_path = join_path(path, key)
    if not isinstance(raw, list):
        # A constant applies to every state.
        profile[:] = energy(raw, key_path)
        return profile
    pick = np.fmax if key == "soc-minima" else np.fmin
    for i, item in enumerate(raw):
        item_path = join_path(key_path, i)
        item_map = mapping(item, item_path)
        if "value" not in item_map:
            raise ProblemError("missing_field", f"a {key} entry needs a 'value'", item_path)
        value = energy(item_map["value"], join_path(item_path, "value"))
        hit = False
        for moment_s in moments(item_map, item_path, reader):
            state = state_index(reader, moment_s)
            if state is not None:
                profile[state] = pick(profile[state], value)
                hit = True
        if not hit:
            notes.append(f"{name}: {key}[{i}] is outside the plan and was ignored")
    return profile


def summed_flows(
    reader: Reader, raw: object, path: str, *, non_negative_as: str | None = None
) -> FloatArray:
    """A power series, or a list of series that add up (FlexMeasures allows both); zero if
    absent. Values in energy units are energy per interval. With `non_negative_as`, each
    series must be ≥ 0 and is named so in the error."""
    total = np.zeros(reader.grid.n_steps)
    if raw is None:
        return total
    # A list of events is one series; any other list is several series.
    is_event_list = isinstance(raw, list) and all(
        isinstance(item, Mapping) and "value" in item for item in raw
    )
    several = isinstance(raw, list) and not is_event_list
    items: list[Any] = raw if isinstance(raw, list) and several else [raw]
    for i, item in enumerate(items):
        item_path = join_path(path, i) if several else path
        values = reader.series(item, Dimension.POWER, item_path, energy_per_interval=True)
        if non_negative_as is not None:
            non_negative(values, item_path, non_negative_as)
        total += values
    return total


def flow_series(entry: Mapping[str, Any], key: str, path: str, reader: Reader) -> FloatArray:
    return summed_flows(reader, entry.get(key), join_path(path, key))


def fraction(reader: Reader, entry: Mapping[str, Any], key: str, path: str) -> float | None:
    value = reader.optional_quantity(entry, key, Dimension.FRACTION, path)
    if value is not None and not 0.0 < value <= 1.0:
        raise ProblemError(
            "out_of_range", f"{key} must be in (0, 100%], got {value:.6g}", join_path(path, key)
        )
    return value


def storage_efficiency(entry: Mapping[str, Any], path: str, reader: Reader) -> float:
    """Retention per plan step, given per `storage-efficiency-resolution` (default: a plan step)."""
    retention = fraction(reader, entry, "storage-efficiency", path)
    if retention is None:
        return 1.0
    if "storage-efficiency-resolution" not in entry:
        return retention
    reference = parse_duration(
        entry["storage-efficiency-resolution"], join_path(path, "storage-efficiency-resolution")
    )
    return float(retention ** (reader.grid.step / reference))


def require_ordered(
    lower: FloatArray, upper: FloatArray, lower_key: str, upper_key: str, path: str, grid: TimeGrid
) -> None:
    """Per-state lower bounds may not exceed their upper bounds (NaN: no bound)."""
    clash = np.flatnonzero(lower > upper)
    if clash.size:
        raise ProblemError(
            "inconsistent_bounds",
            f"{lower_key} is above {upper_key} at {grid.iso_at_boundary(int(clash[0]) + 1)}",
            join_path(path, lower_key),
        )


def on_off_minimum(
    entry: Mapping[str, Any], path: str, reader: Reader, capacity_kw: float
) -> float | None:
    """A device's `min-power` (0 or at least this when running) or `on-off: true` (0 or
    `capacity_kw`); None when it modulates from zero."""
    minimum = reader.optional_quantity(entry, "min-power", Dimension.POWER, path)
    if boolean(entry, "on-off", False, path):
        if minimum is not None:
            raise ProblemError(
                "conflicting_fields", "give on-off or min-power, not both",
                join_path(path, "on-off"),
            )  # fmt: skip
        return capacity_kw
    if minimum is not None and minimum < 0:
        raise ProblemError(
            "negative_value", "min-power must not be negative", join_path(path, "min-power")
        )
    return minimum
