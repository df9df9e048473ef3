"""Costs and breaches recomputed from the reported powers and states, never from the solver."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..devices.storage import SocLimits
from ..problem.model import (
    FillRateDevice,
    FlexContext,
    HeatPump,
    SiteLimit,
    SiteProblem,
    Storage,
)
from ..problem.timegrid import FloatArray
from .results import DeviceResult, SiteResult

BREACH_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Breach:
    constraint: str
    device: str | None
    state_or_step: int
    limit: float
    value: float
    unit: str  # kWh or K for states (at the end of a step), kW for steps

    @property
    def amount(self) -> float:
        return abs(self.value - self.limit)

    @property
    def is_state(self) -> bool:
        return self.unit != "kW"


def energy_cost_per_step(
    problem: SiteProblem, net_kw: FloatArray, devices: tuple[DeviceResult, ...]
) -> FloatArray:
    """Per step: the main meter at the site's prices, plus devices on their own meter at their
    own: Δt·(consumption-price·import − production-price·export) + Δt·own-price·power."""
    grid, context = problem.grid, problem.flex_context
    own = {d.name: d.own_price for d in problem.devices if d.own_price is not None}
    meter = net_kw.copy()
    cost = np.zeros(net_kw.size)
    for device in devices:
        if device.name in own:
            meter -= device.power_kw
            cost += own[device.name] * device.power_kw
    imports, exports = np.maximum(meter, 0.0), np.maximum(-meter, 0.0)
    cost += context.consumption_price * imports - context.production_price * exports
    per_step: FloatArray = grid.step_hours * cost
    return per_step


def energy_cost(
    problem: SiteProblem, net_kw: FloatArray, devices: tuple[DeviceResult, ...]
) -> float:
    """The energy cost of the whole plan (see `energy_cost_per_step`)."""
    return float(energy_cost_per_step(problem, net_kw, devices).sum())


def peak_cost(context: FlexContext, result: SiteResult) -> float:
    consumption = context.site_peak_consumption_price_per_kw * max(
        0.0, float(result.import_kw.max(initial=0.0)) - context.site_peak_consumption_kw
    )
    production = context.site_peak_production_price_per_kw * max(
        0.0, float(result.export_kw.max(initial=0.0)) - context.site_peak_production_kw
    )
    return consumption + production


def site_breaches(
    limit: SiteLimit, flow_kw: FloatArray, constraint_side: str, include_hard: bool
) -> list[Breach]:
    """Steps where site import (or export) exceeds its soft limit (or hard, when diagnosing)."""
    bound = np.fmin(limit.soft_kw, limit.hard_kw) if include_hard else limit.soft_kw
    source = [
        limit.hard_source[i] if include_hard and limit.hard_kw[i] < limit.soft_kw[i] else s
        for i, s in enumerate(limit.soft_source)
    ]
    over = np.flatnonzero(flow_kw > bound + BREACH_TOLERANCE)
    return [
        Breach(source[i] or f"site-{constraint_side}-capacity", None, int(i),
               float(bound[i]), float(flow_kw[i]), "kW")
        for i in over
    ]  # fmt: skip


def state_breaches(name: str, limits: SocLimits, state: FloatArray, unit: str) -> list[Breach]:
    breaches = []
    for j in np.flatnonzero(state < limits.soft_lower - BREACH_TOLERANCE):
        breaches.append(
            Breach(limits.lower_source[j], name, int(j),
                   float(limits.soft_lower[j]), float(state[j]), unit)
        )  # fmt: skip
    for j in np.flatnonzero(state > limits.soft_upper + BREACH_TOLERANCE):
        breaches.append(
            Breach(limits.upper_source[j], name, int(j),
                   float(limits.soft_upper[j]), float(state[j]), unit)
        )  # fmt: skip
    return breaches


def _storages(problem: SiteProblem) -> dict[str, Storage]:
    """Every stock by its device's name (an S2 FRBC device's is its buffer)."""
    found = {d.name: d for d in problem.devices if isinstance(d, Storage)}
    found.update({d.name: d.buffer for d in problem.devices if isinstance(d, FillRateDevice)})
    return found


def breach_cost(problem: SiteProblem, limits: dict[str, SocLimits], result: SiteResult) -> float:
    """What the breaches of soft constraints cost at their breach prices."""
    dt = problem.grid.step_hours
    context = problem.flex_context
    total = 0.0
    for limit, flow in (
        (context.site_consumption, result.import_kw),
        (context.site_production, result.export_kw),
    ):
        over = np.maximum(np.nan_to_num(flow - limit.soft_kw, nan=0.0, neginf=0.0), 0.0)
        total += limit.breach_price_per_kw * (dt * float(over.sum()) + float(over.max(initial=0)))
    storages = _storages(problem)
    for device in result.devices:
        if device.state is None:
            continue
        soc = limits[device.name]
        below = np.maximum(np.nan_to_num(soc.soft_lower - device.state, nan=0.0), 0.0)
        above = np.maximum(np.nan_to_num(device.state - soc.soft_upper, nan=0.0), 0.0)
        storage = storages[device.name]
        # Storage misses count per state and once more at their largest (as FlexMeasures).
        worst = 0.0 if storage.is_heat_sink else 1.0
        total += soc.lower_price_per_kwh * float(below.sum() + worst * below.max(initial=0.0))
        total += soc.upper_price_per_kwh * float(above.sum() + worst * above.max(initial=0.0))
        capacities: tuple[tuple[float | None, FloatArray, FloatArray | None], ...] = (
            (context.device_consumption_breach_price_per_kw,
             storage.soft_consumption_capacity_kw, device.charge_kw),
            (context.device_production_breach_price_per_kw,
             storage.soft_production_capacity_kw, device.discharge_kw),
        )  # fmt: skip
        for price, soft_kw, device_flow in capacities:
            if price is None or device_flow is None:
                continue
            over = np.maximum(np.nan_to_num(device_flow - soft_kw, nan=0.0), 0.0)
            total += price * (dt * float(over.sum()) + float(over.max(initial=0)))
    return total


def device_capacity_breaches(problem: SiteProblem, result: SiteResult) -> list[Breach]:
    found = []
    storages = _storages(problem)
    for device in result.devices:
        if device.charge_kw is None or device.discharge_kw is None:
            continue
        storage = storages[device.name]
        for key, soft_kw, flow in (
            ("consumption-capacity", storage.soft_consumption_capacity_kw, device.charge_kw),
            ("production-capacity", storage.soft_production_capacity_kw, device.discharge_kw),
        ):
            for step in np.flatnonzero(flow > soft_kw + BREACH_TOLERANCE):
                found.append(
                    Breach(
                        key, device.name, int(step), float(soft_kw[step]), float(flow[step]), "kW"
                    )
                )
    return found


def start_cost(problem: SiteProblem, result: SiteResult) -> float:
    """What the starts of on/off devices cost (`start-cost`): a start is a step that runs (a
    heat pump) or charges (a charger) after one that did not, or after the state before the
    plan."""
    powers = {device.name: device.power_kw for device in result.devices}
    total = 0.0
    for device in problem.devices:
        if not isinstance(device, HeatPump | Storage) or not device.run_rules.start_cost:
            continue
        rules = device.run_rules
        on = powers[device.name] > 1e-6
        before = np.concatenate((np.array([bool(rules.initial_on)]), on[:-1]))
        total += rules.start_cost * int(np.count_nonzero(on & ~before))
    return total


def costs(
    problem: SiteProblem,
    limits: dict[str, SocLimits],
    result: SiteResult,
    baseline_energy_eur: float | None,
) -> dict[str, Any]:
    energy = energy_cost(problem, result.net_kw, result.devices)
    peak = peak_cost(problem.flex_context, result)
    breach = breach_cost(problem, limits, result)
    starts = start_cost(problem, result)
    report: dict[str, Any] = {
        "energy_eur": round(energy, 9),
        "peak_eur": round(peak, 9),
        "breach_eur": round(breach, 9),
        "start_eur": round(starts, 9),
        "total_eur": round(energy + peak + breach + starts, 9),
        "baseline_energy_eur": None
        if baseline_energy_eur is None
        else round(baseline_energy_eur, 9),
        "savings_eur": None
        if baseline_energy_eur is None
        else round(baseline_energy_eur - energy, 9),
        "currency": problem.currency,
    }
    intensity = problem.flex_context.co2_intensity_kg_per_kwh
    if intensity is not None:
        report["co2_kg"] = round(float(problem.grid.step_hours * intensity @ result.net_kw), 9)
    return report
