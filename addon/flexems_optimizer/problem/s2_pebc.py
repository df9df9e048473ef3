"""An S2 PEBC device as a flex-model entry (`type: "s2-pebc"`): the RM's own messages read into
a PowerEnvelopeDevice on the plan's grid.

The entry holds `power-forecast` (PowerForecast: what the device would do unhindered) and
optionally `power-constraints` and `energy-constraints` (lists of PEBC.PowerConstraints and
PEBC.EnergyConstraint). Modelled as follows (documented in the README):
- with limits L (lower) and U (upper) the device runs at its forecast f clamped to [L, U]; over
  the allowed limit ranges (their hull, summed over electric commodity quantities) a step's
  power can be anything from clamp(f, L_min, U_min) to clamp(f, L_max, U_max);
- VANISH: what is not produced or consumed is lost; flexems curtails production but does not
  cut a forecast consumption (the plan has no price for the service lost);
- DEFER: what is held back comes later (up to the loosest limits allowed): over a power
  constraint's validity the energy stays the forecast's (when it ends within the horizon);
- an energy constraint bounds the average power over its window (scaled to the part of the
  window within the horizon); energy windows are soft (ENERGY_BREACH_PRICE per kWh missed);
- steps with no power constraints in force run at the forecast.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import fields
from .errors import ProblemError, join_path
from .model import EnergyWindow, PowerEnvelopeDevice
from .reader import Reader
from .s2_frbc import ELECTRIC, step_overlap, valid_message
from .timegrid import FloatArray, TimeGrid
from .timing import parse_datetime

PEBC_KEYS = {"name", "type", "power-forecast", "power-constraints", "energy-constraints"}


def parse_power_envelope_device(
    entry: Mapping[str, Any], name: str, path: str, reader: Reader
) -> PowerEnvelopeDevice:
    fields.reject_unknown(entry, PEBC_KEYS, path)
    grid = reader.grid
    if entry.get("power-forecast") is None:
        raise ProblemError("missing_field", "an s2-pebc device needs 'power-forecast'",
                           join_path(path, "power-forecast"))  # fmt: skip
    forecast = _forecast_kw(
        valid_message(entry["power-forecast"], "PowerForecast", join_path(path, "power-forecast")),
        grid,
    )
    constraints = _messages(entry, "power-constraints", "PEBC.PowerConstraints", path)
    energy = _messages(entry, "energy-constraints", "PEBC.EnergyConstraint", path)
    n = grid.n_steps
    lowest, highest = forecast.copy(), forecast.copy()
    lower_min, lower_max = np.full(n, -np.inf), np.full(n, -np.inf)
    upper_min, upper_max = np.full(n, np.inf), np.full(n, np.inf)
    in_force: list[str | None] = [None] * n
    quantities: list[str] = []
    windows = []
    # The latest valid_from wins where several are in force.
    for constraint in sorted(constraints, key=lambda c: _moment(c["valid_from"])):
        steps = _steps_within(grid, constraint["valid_from"], constraint.get("valid_until"))
        limits = _limit_ranges(constraint["allowed_limit_ranges"])
        quantities += [q for q in limits.quantities if q not in quantities]
        f = forecast[steps]
        low = np.minimum(np.maximum(f, limits.lower[0]), limits.upper[0])
        high = np.minimum(np.maximum(f, limits.lower[1]), limits.upper[1])
        if constraint["consequence_type"] == "VANISH":
            low = np.where(f > 0, np.maximum(low, f), low)  # no consumption cut
        else:
            # Deferred energy comes back later, up to the loosest limits allowed.
            low = np.minimum(low, limits.lower[0]) if math.isfinite(limits.lower[0]) else low
            high = np.maximum(high, limits.upper[1]) if math.isfinite(limits.upper[1]) else high
        lowest[steps], highest[steps] = np.minimum(low, high), np.maximum(low, high)
        lower_min[steps], lower_max[steps] = limits.lower
        upper_min[steps], upper_max[steps] = limits.upper
        for step in np.flatnonzero(steps):
            in_force[step] = constraint["id"]
        ends: str | None = constraint.get("valid_until")
        if (
            constraint["consequence_type"] == "DEFER"
            and ends
            and _moment(ends) <= grid.boundaries_s[-1]
        ):
            share = step_overlap(grid, _moment(constraint["valid_from"]), _moment(ends))
            energy_kwh = float(share @ forecast) * grid.step_hours
            windows.append(EnergyWindow(share, energy_kwh, energy_kwh))
    for constraint in energy:
        start, end = _moment(constraint["valid_from"]), _moment(constraint["valid_until"])
        share = step_overlap(grid, start, end)
        inside_h = float(share.sum()) * grid.step_hours
        if inside_h <= 0 or end <= start:
            continue
        windows.append(EnergyWindow(
            share, float(constraint["lower_average_power"]) / 1000.0 * inside_h,
            float(constraint["upper_average_power"]) / 1000.0 * inside_h,
        ))  # fmt: skip
    return PowerEnvelopeDevice(
        name=name, path=path, commodity_quantities=tuple(quantities), forecast_kw=forecast,
        lowest_kw=lowest, highest_kw=highest, lower_limit_kw=(lower_min, lower_max),
        upper_limit_kw=(upper_min, upper_max), constraints=tuple(in_force),
        energy_windows=tuple(windows),
    )  # fmt: skip


class _Limits:
    """The allowed limit ranges in kW, summed over the electric commodity quantities: the
    lower limit may be set within `lower` (min, max), the upper within `upper`."""

    def __init__(self) -> None:
        self.lower = (-math.inf, -math.inf)
        self.upper = (math.inf, math.inf)
        self.quantities: list[str] = []


def _limit_ranges(ranges: list[dict[str, Any]]) -> _Limits:
    limits = _Limits()
    hulls: dict[tuple[str, str], tuple[float, float]] = {}
    for allowed in ranges:
        if allowed.get("abnormal_condition_only") or allowed["commodity_quantity"] not in ELECTRIC:
            continue
        key = (allowed["limit_type"], allowed["commodity_quantity"])
        low = float(allowed["range_boundary"]["start_of_range"]) / 1000.0
        high = float(allowed["range_boundary"]["end_of_range"]) / 1000.0
        known = hulls.get(key, (low, high))
        hulls[key] = (min(known[0], low, high), max(known[1], low, high))
    for kind in ("LOWER_LIMIT", "UPPER_LIMIT"):
        parts = [span for (limit, _), span in hulls.items() if limit == kind]
        if parts:
            total = (sum(p[0] for p in parts), sum(p[1] for p in parts))
            if kind == "LOWER_LIMIT":
                limits.lower = total
            else:
                limits.upper = total
    limits.quantities = sorted({quantity for _, quantity in hulls})
    return limits


def _forecast_kw(forecast: Mapping[str, Any], grid: TimeGrid) -> FloatArray:
    """The expected electric power per step (kW, time-weighted; 0 outside the forecast)."""
    power = np.zeros(grid.n_steps)
    moment = _moment(forecast["start_time"])
    for element in forecast["elements"]:
        end = moment + float(element["duration"]) / 1000.0
        watts = sum(float(v["value_expected"]) for v in element["power_values"]
                    if v["commodity_quantity"] in ELECTRIC)  # fmt: skip
        power += watts / 1000.0 * step_overlap(grid, moment, end)
        moment = end
    return power


def _steps_within(grid: TimeGrid, valid_from: str, valid_until: str | None) -> Any:
    """Steps that start within [valid_from, valid_until)."""
    starts = grid.boundaries_s[:-1]
    until = math.inf if valid_until is None else _moment(valid_until)
    return (starts >= _moment(valid_from) - 1e-6) & (starts < until - 1e-6)


def _messages(entry: Mapping[str, Any], key: str, kind: str, path: str) -> list[dict[str, Any]]:
    raw = entry.get(key, [])
    where = join_path(path, key)
    if not isinstance(raw, list):
        raise ProblemError("invalid_type", f"expected a list of {kind} messages", where)
    return [valid_message(item, kind, join_path(where, i)) for i, item in enumerate(raw)]


def _moment(text: str) -> float:
    return parse_datetime(text, "valid_from").timestamp()
