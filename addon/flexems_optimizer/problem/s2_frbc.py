"""An S2 FRBC device as a flex-model entry (`type: "s2-frbc"`): the RM's own messages, as it
sent them, read into a FillRateDevice on the plan's grid.

The entry holds `system-description` (FRBC.SystemDescription) and `storage-status`
(FRBC.StorageStatus), and optionally `actuator-statuses`, `timer-statuses`,
`leakage-behaviour`, `usage-forecast`, `fill-level-target-profile` and
`fill-level-breach-price` (currency per unit of fill level per hour outside the fill-level
range or the target profile; default 10). S2 units: durations in ms, power in W, rates and
running costs per second. The add-on builds these entries from its S2 sessions.

Modelled as follows (documented in the README):
- an element of an operation mode applies when the fill level at a step's *start* is within
  its range (exact at step boundaries); below a mode's lowest range its lowest element
  applies, above its highest its highest;
- leakage is a straight line in the fill level fitted to the leakage elements (exact for one
  element and for elements on a line), its discretisation exact;
- the fill-level range and target profile are soft (the RM has the last word; targets are best
  effort), both priced at `fill-level-breach-price`;
- `abnormal_condition_only` modes and transitions are left out of normal plans; timers round
  up to whole steps (a transition never comes before its timer has finished).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..devices.storage import idle_trajectory
from ..s2.messages import MODELS
from . import fields
from .errors import ProblemError, join_path
from .model import (
    Actuator,
    FillRateDevice,
    ModeElement,
    ModeTimer,
    ModeTransition,
    OperationMode,
    Storage,
)
from .quantities import Dimension
from .reader import Reader
from .timegrid import FloatArray, TimeGrid
from .timing import parse_datetime

DEFAULT_FILL_LEVEL_BREACH_PRICE = 10.0  # currency per unit of fill level per hour
ELECTRIC = frozenset({"ELECTRIC.POWER.L1", "ELECTRIC.POWER.L2", "ELECTRIC.POWER.L3",
                      "ELECTRIC.POWER.3_PHASE_SYMMETRIC"})  # fmt: skip
_MESSAGES = {
    "system-description": "FRBC.SystemDescription",
    "storage-status": "FRBC.StorageStatus",
    "leakage-behaviour": "FRBC.LeakageBehaviour",
    "usage-forecast": "FRBC.UsageForecast",
    "fill-level-target-profile": "FRBC.FillLevelTargetProfile",
}
_LISTS = {"actuator-statuses": "FRBC.ActuatorStatus", "timer-statuses": "FRBC.TimerStatus"}
FRBC_KEYS = {"name", "type", "fill-level-breach-price", *_MESSAGES, *_LISTS}


def parse_fill_rate_device(
    entry: Mapping[str, Any], name: str, path: str, reader: Reader
) -> FillRateDevice:
    fields.reject_unknown(entry, FRBC_KEYS, path)
    grid = reader.grid
    described = _message(entry, "system-description", path, required=True)
    status = _message(entry, "storage-status", path, required=True)
    assert described is not None and status is not None
    statuses = {s["actuator_id"]: s for s in _messages(entry, "actuator-statuses", path)}
    timers = _messages(entry, "timer-statuses", path)
    actuators = tuple(
        _actuator(raw, statuses.get(raw["id"]), timers, grid) for raw in described["actuators"]
    )
    if not any(actuator.modes for actuator in actuators):
        raise ProblemError(
            "no_operation_modes", "no actuator has an operation mode for normal operation",
            join_path(path, "system-description.actuators"),
        )  # fmt: skip
    price = reader.optional_quantity(entry, "fill-level-breach-price", Dimension.ENERGY_PRICE, path)
    if price is None:
        price = DEFAULT_FILL_LEVEL_BREACH_PRICE
    per_state_price = price * grid.step_hours
    storage = described["storage"]
    buffer = _buffer(
        name, path, grid, storage, float(status["present_fill_level"]), actuators,
        leakage=_message(entry, "leakage-behaviour", path),
        usage=_message(entry, "usage-forecast", path),
        targets=_message(entry, "fill-level-target-profile", path),
        breach_price=per_state_price,
    )  # fmt: skip
    return FillRateDevice(name, path, buffer, actuators, storage.get("fill_level_label"))


def _message(
    entry: Mapping[str, Any], key: str, path: str, *, required: bool = False
) -> dict[str, Any] | None:
    raw = entry.get(key)
    if raw is None:
        if required:
            raise ProblemError("missing_field", f"an s2-frbc device needs {key!r}",
                               join_path(path, key))  # fmt: skip
        return None
    return valid_message(raw, _MESSAGES[key], join_path(path, key))


def _messages(entry: Mapping[str, Any], key: str, path: str) -> list[dict[str, Any]]:
    raw = entry.get(key, [])
    if not isinstance(raw, list):
        raise ProblemError("invalid_type", f"expected a list of {_LISTS[key]} messages",
                           join_path(path, key))  # fmt: skip
    return [valid_message(item, _LISTS[key], join_path(join_path(path, key), i))
            for i, item in enumerate(raw)]  # fmt: skip


def valid_message(raw: object, kind: str, path: str) -> dict[str, Any]:
    """An S2 message as its schema says (the same models the S2 endpoint reads with)."""
    if not isinstance(raw, dict):
        raise ProblemError("invalid_type", f"expected a {kind} message", path)
    try:
        MODELS[kind].model_validate({**raw, "message_type": kind})
    except ValidationError as error:
        first = error.errors()[0]
        where = join_path(path, ".".join(str(part) for part in first["loc"]))
        raise ProblemError("invalid_s2_message", f"{kind}: {first['msg']}", where) from None
    return raw


def _actuator(
    raw: Mapping[str, Any],
    status: Mapping[str, Any] | None,
    timer_statuses: Sequence[Mapping[str, Any]],
    grid: TimeGrid,
) -> Actuator:
    modes = tuple(_mode(mode) for mode in raw["operation_modes"]
                  if not mode.get("abnormal_condition_only", False))  # fmt: skip
    known = {mode.id for mode in modes}
    transitions = tuple(
        ModeTransition(
            id=t["id"], from_mode=t["from"], to_mode=t["to"],
            start_timers=tuple(t.get("start_timers", [])),
            blocking_timers=tuple(t.get("blocking_timers", [])),
            cost=float(t.get("transition_costs") or 0.0),
        )
        for t in raw.get("transitions", [])
        if not t.get("abnormal_condition_only", False) and {t["from"], t["to"]} <= known
    )  # fmt: skip
    step_ms = grid.step.total_seconds() * 1000.0
    start_s = grid.boundaries_s[0]
    running = {
        s["timer_id"]: parse_datetime(s["finished_at"], "finished_at").timestamp()
        for s in timer_statuses if s["actuator_id"] == raw["id"]
    }  # fmt: skip
    timers = []
    for timer in raw.get("timers", []):
        until = running.get(timer["id"], -math.inf)
        # Boundaries before `until` are blocked: boundary b is at start + b·step.
        blocked = math.ceil((until - start_s) * 1000.0 / step_ms - 1e-9) if until > start_s else 0
        steps = max(1, math.ceil(float(timer["duration"]) / step_ms - 1e-9))
        timers.append(ModeTimer(timer["id"], steps, min(blocked, grid.n_steps + 1)))
    active = None if status is None else status["active_operation_mode_id"]
    return Actuator(raw["id"], modes, transitions, tuple(timers),
                    active if active in known else None)  # fmt: skip


def _mode(raw: Mapping[str, Any]) -> OperationMode:
    elements = sorted(raw["elements"], key=lambda e: e["fill_level_range"]["start_of_range"])
    parsed = []
    for index, element in enumerate(elements):
        level = element["fill_level_range"]
        rate = element["fill_rate"]
        electric = [r for r in element["power_ranges"] if r["commodity_quantity"] in ELECTRIC]
        costs = element.get("running_costs")
        parsed.append(
            ModeElement(
                fill_level_low=-math.inf if index == 0 else float(level["start_of_range"]),
                fill_level_high=math.inf if index == len(elements) - 1
                else float(level["end_of_range"]),
                power_kw=(sum(float(r["start_of_range"]) for r in electric) / 1000.0,
                          sum(float(r["end_of_range"]) for r in electric) / 1000.0),
                fill_rate_per_h=(3600.0 * float(rate["start_of_range"]),
                                 3600.0 * float(rate["end_of_range"])),
                # A range of uncertainty, not of the factor: its middle.
                running_cost_per_h=0.0 if costs is None else 1800.0
                * (float(costs["start_of_range"]) + float(costs["end_of_range"])),
            )
        )  # fmt: skip
    return OperationMode(raw["id"], tuple(parsed))


def _buffer(
    name: str,
    path: str,
    grid: TimeGrid,
    storage: Mapping[str, Any],
    fill_level: float,
    actuators: tuple[Actuator, ...],
    *,
    leakage: Mapping[str, Any] | None,
    usage: Mapping[str, Any] | None,
    targets: Mapping[str, Any] | None,
    breach_price: float,
) -> Storage:
    n = grid.n_steps
    constant, slope = _leakage_line(leakage)  # per hour: constant + slope·fill level
    retention = math.exp(-slope * grid.step_hours)
    usage_per_h = _usage_per_hour(usage, grid)
    low_range = float(storage["fill_level_range"]["start_of_range"])
    high_range = float(storage["fill_level_range"]["end_of_range"])
    lower = np.full(n, low_range)
    upper = np.full(n, high_range)
    if targets is not None:
        target_low, target_high = _target_profile(targets, grid)
        lower = np.fmax(lower, target_low)
        upper = np.fmin(upper, target_high)
        upper = np.maximum(upper, lower)  # a target above the range: the target wins
    net_gain = -(constant + usage_per_h)
    zeros = np.zeros(n)
    nothing = np.full(n, np.nan)
    buffer = Storage(
        name=name, path=path, soc_at_start_kwh=fill_level,
        soc_min_kwh=-math.inf, soc_max_kwh=math.inf,
        soc_minima_kwh=lower, soc_maxima_kwh=upper, targets=(), net_gain_kw=net_gain,
        charging_efficiency=1.0, discharging_efficiency=1.0,
        storage_efficiency_per_step=retention,
        consumption_capacity_kw=zeros, production_capacity_kw=zeros,
        soft_consumption_capacity_kw=nothing, soft_production_capacity_kw=nothing,
        prefer_charging_sooner=False, is_heat_sink=True, state_unit="fill level",
        lower_breach_price=breach_price, upper_breach_price=breach_price,
    )  # fmt: skip
    # What no plan can leave anyway: the bounds the element rows rely on.
    floor, ceiling = _reachable(buffer, grid, actuators)
    return replace(buffer, soc_min_kwh=floor, soc_max_kwh=ceiling)


def _leakage_line(leakage: Mapping[str, Any] | None) -> tuple[float, float]:
    """Leakage per hour as constant + slope·fill level: the least-squares line through the
    elements' midpoints weighted by their widths (a flat line for one element)."""
    if leakage is None or not leakage["elements"]:
        return 0.0, 0.0
    middles, rates, widths = [], [], []
    for element in leakage["elements"]:
        low = float(element["fill_level_range"]["start_of_range"])
        high = float(element["fill_level_range"]["end_of_range"])
        middles.append((low + high) / 2.0)
        rates.append(3600.0 * float(element["leakage_rate"]))
        widths.append(max(high - low, 1e-9))
    x, y, w = np.array(middles), np.array(rates), np.array(widths)
    mean_x, mean_y = np.average(x, weights=w), np.average(y, weights=w)
    spread = float(np.average((x - mean_x) ** 2, weights=w))
    slope = float(np.average((x - mean_x) * (y - mean_y), weights=w)) / spread if spread else 0.0
    if slope <= 0.0:
        return float(mean_y), 0.0  # leakage that falls as the storage fills: keep its mean
    return float(mean_y - slope * mean_x), slope


def _usage_per_hour(usage: Mapping[str, Any] | None, grid: TimeGrid) -> FloatArray:
    """The usage forecast's expected rate averaged over each step (none outside it)."""
    per_hour = np.zeros(grid.n_steps)
    if usage is None:
        return per_hour
    moment = parse_datetime(usage["start_time"], "start_time").timestamp()
    for element in usage["elements"]:
        end = moment + float(element["duration"]) / 1000.0
        per_hour += 3600.0 * float(element["usage_rate_expected"]) * step_overlap(grid, moment, end)
        moment = end
    return per_hour


def _target_profile(targets: Mapping[str, Any], grid: TimeGrid) -> tuple[FloatArray, FloatArray]:
    """Per state (step end), the target range whose element contains that moment."""
    n = grid.n_steps
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    ends = grid.boundaries_s[1:]
    moment = parse_datetime(targets["start_time"], "start_time").timestamp()
    for element in targets["elements"]:
        end = moment + float(element["duration"]) / 1000.0
        inside = (ends > moment) & (ends <= end)
        low[inside] = float(element["fill_level_range"]["start_of_range"])
        high[inside] = float(element["fill_level_range"]["end_of_range"])
        moment = end
    return low, high


def step_overlap(grid: TimeGrid, start: float, end: float) -> FloatArray:
    """Per step, the fraction of it within [start, end)."""
    bounds = grid.boundaries_s
    covered = np.clip(np.minimum(bounds[1:], end) - np.maximum(bounds[:-1], start), 0.0, None)
    fraction: FloatArray = covered / grid.step.total_seconds()
    return fraction


def _reachable(
    buffer: Storage, grid: TimeGrid, actuators: tuple[Actuator, ...]
) -> tuple[float, float]:
    """The lowest and highest fill level any plan can reach: always at the least (most) fill
    rate, from the present level; also doing nothing. The dynamics are monotone in both."""
    rates = [[r for mode in a.modes for e in mode.elements for r in e.fill_rate_per_h]
             for a in actuators if a.modes]  # fmt: skip
    paths = [
        idle_trajectory(replace(buffer, net_gain_kw=buffer.net_gain_kw + inflow), grid.step_hours)
        for inflow in (sum(min(r) for r in rates), 0.0, sum(max(r) for r in rates))
    ]
    start = buffer.soc_at_start_kwh
    return min(start, *(float(p.min()) for p in paths)), max(
        start, *(float(p.max()) for p in paths)
    )
