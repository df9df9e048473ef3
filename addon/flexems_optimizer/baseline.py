"""The baseline: the same site with none of its flexibility used (`costs.baseline_energy_eur`).

Each storage (a battery, an EV) charges as soon as possible, at full power, until it holds what
its later minima and targets need without charging again, and never beyond what its later maxima
allow without discharging; it discharges only where a maximum forces it. Each heat pump heats
when needed: in each step just enough to keep its sink at the least state from which its later
minima can still be reached at full power. Processes run at their earliest allowed start.
Nothing charges, discharges or runs to earn.

`simulate` follows that rule step by step (a pass back and a pass forward per device, no solver).
It answers None where the rule alone cannot: the devices together break a site limit, a device
cannot keep its bounds, several heat pumps heat one sink, or a device kind it does not know (an
S2 FRBC or PEBC device). The scheduler then solves the same rule as an LP (the BASELINE purpose
of solve/compile.py: earlier charging and later heating cost less there; the earliness weight is
linear, so a storage with standing losses may charge a little later there than here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .devices.storage import Strictness, idle_trajectory, soc_limits, stock_coefficients
from .problem.model import FlexContext, HeatPump, Process, ProcessPolicy, SiteProblem, Storage
from .problem.timegrid import FloatArray
from .solve.results import DeviceResult

# States and powers within this of a bound count as on it (the LP's tolerance, with room for
# the sums of a long horizon).
_TOLERANCE = 1e-7


@dataclass(frozen=True)
class Baseline:
    devices: tuple[DeviceResult, ...]
    net_kw: FloatArray  # at the grid connection, consumption positive


def simulate(problem: SiteProblem) -> Baseline | None:
    """The baseline plan by the rule above, or None where the rule alone cannot give it."""
    context, dt = problem.flex_context, problem.grid.step_hours
    n = problem.grid.n_steps
    storages = [d for d in problem.devices if isinstance(d, Storage)]
    heat_pumps = [d for d in problem.devices if isinstance(d, HeatPump)]
    processes = [d for d in problem.devices if isinstance(d, Process)]
    if len(storages) + len(heat_pumps) + len(processes) < len(problem.devices):
        return None  # an S2 device: its modes are the LP's to weigh
    pumps_of = {sink.name: [p for p in heat_pumps if p.heats == sink.name] for sink in storages}
    if any(len(pumps) > 1 for pumps in pumps_of.values()):
        return None
    devices: list[DeviceResult] = []
    for storage in storages:
        if storage.is_heat_sink:
            pumps = pumps_of[storage.name]
            heat_pump = pumps[0] if pumps else None
            power = _heat_when_needed(storage, heat_pump, context, dt)
            if power is None:
                return None
            if heat_pump is not None:
                devices.append(DeviceResult(heat_pump.name, "heat-pump", power))
        else:
            power = _charge_as_soon_as_possible(storage, context, dt)
            if power is None or _breaks_soft_capacity(storage, power):
                return None
            devices.append(DeviceResult(storage.name, "storage", power))
    devices += [DeviceResult(p.name, "process", earliest_run_kw(p, n)) for p in processes]
    net = sum((d.power_kw for d in devices), start=np.zeros(n))
    net += context.inflexible_consumption_kw - context.inflexible_production_kw
    if not _within_site_limits(context, net):
        return None
    return Baseline(tuple(devices), net)


def idle_devices(problem: SiteProblem) -> frozenset[str]:
    """Storages that keep every bound without any power, and the heat pumps of such sinks:
    in the baseline they do nothing (fewer columns for the LP)."""
    context, dt = problem.flex_context, problem.grid.step_hours
    idle = {
        device.name
        for device in problem.devices
        if isinstance(device, Storage)
        and _never_needs_power(device, *_bounds(device, context, dt), dt)
    }
    return frozenset(
        idle | {d.name for d in problem.devices if isinstance(d, HeatPump) and d.heats in idle}
    )


def earliest_run_kw(process: Process, n_steps: int) -> FloatArray:
    """A process's power when it runs as early as allowed (INFLEXIBLE placement)."""
    power = np.zeros(n_steps)
    length = process.profile_kw.size
    if process.policy is ProcessPolicy.BREAKABLE:
        power[np.flatnonzero(process.allowed_steps)[:length]] = process.profile_kw
    else:
        start = int(process.allowed_starts[0])
        power[start : start + length] = process.profile_kw
    return power


def _bounds(storage: Storage, context: FlexContext, dt: float) -> tuple[FloatArray, FloatArray]:
    """Per state, the least and most stock the baseline keeps: hard and soft bounds alike (it
    meets every minimum and target it can, as the LP does at their breach prices)."""
    limits = soc_limits(storage, context, Strictness.AS_GIVEN, dt)
    lower = np.fmax(limits.hard_lower, np.nan_to_num(limits.soft_lower, nan=-np.inf))
    upper = np.fmin(limits.hard_upper, np.nan_to_num(limits.soft_upper, nan=np.inf))
    return lower, upper


def _never_needs_power(storage: Storage, lower: FloatArray, upper: FloatArray, dt: float) -> bool:
    stock = idle_trajectory(storage, dt)
    return bool(np.all(stock >= lower - _TOLERANCE) and np.all(stock <= upper + _TOLERANCE))


def _charge_as_soon_as_possible(
    storage: Storage, context: FlexContext, dt: float
) -> FloatArray | None:
    """Grid power per step (charging positive), or None when the bounds cannot all be kept."""
    lower, upper = _bounds(storage, context, dt)
    if _never_needs_power(storage, lower, upper, dt):
        return np.zeros(lower.size)
    a, b = stock_coefficients(storage)
    gain = b * dt * storage.net_gain_kw
    per_charge_kw = b * dt * storage.charging_efficiency
    per_discharge_kw = b * dt / storage.discharging_efficiency
    # Backwards: the least stock from which no later minimum needs charging (`enough`), and the
    # most from which no later maximum needs discharging (`allowed`).
    enough = _back_pass(lower, gain, a, max)
    allowed = _back_pass(upper, gain, a, min)
    goal = np.minimum(enough, allowed).tolist()
    charge = storage.consumption_capacity_kw.tolist()
    discharge = storage.production_capacity_kw.tolist()
    low, high, most, steps_in = lower.tolist(), upper.tolist(), allowed.tolist(), gain.tolist()
    power = [0.0] * len(goal)
    stock = storage.soc_at_start_kwh
    for j, aim in enumerate(goal):
        drift = a * stock + steps_in[j]
        if drift < aim and per_charge_kw > 0:
            power[j] = min((aim - drift) / per_charge_kw, charge[j])
        elif drift > most[j]:
            power[j] = -min((drift - most[j]) / per_discharge_kw, discharge[j])
        stock = drift + (per_charge_kw if power[j] > 0 else per_discharge_kw) * power[j]
        if not low[j] - _TOLERANCE <= stock <= high[j] + _TOLERANCE:
            return None
    return np.array(power)


def _heat_when_needed(
    sink: Storage, heat_pump: HeatPump | None, context: FlexContext, dt: float
) -> FloatArray | None:
    """The heat pump's power per step (zeros without one), or None when the sink's bounds
    cannot all be kept (it cannot be cooled: a state pushed over its maximum stays over)."""
    lower, upper = _bounds(sink, context, dt)
    if _never_needs_power(sink, lower, upper, dt):
        return np.zeros(lower.size)
    a, b = stock_coefficients(sink)
    gain = b * dt * sink.net_gain_kw
    n = lower.size
    capacity = np.zeros(n) if heat_pump is None else heat_pump.power_capacity_kw
    cop = np.ones(n) if heat_pump is None else heat_pump.cop
    per_kw = b * dt * sink.heat_input_per_kw * cop  # state rise per kW of electric power
    # Backwards: the least state from which every later minimum can still be reached at full
    # power; heating holds the sink there, no higher.
    needed = _back_pass(lower, gain + per_kw * capacity, a, max).tolist()
    low, high, steps_in = lower.tolist(), upper.tolist(), gain.tolist()
    rise, most = per_kw.tolist(), capacity.tolist()
    power = [0.0] * n
    state = sink.soc_at_start_kwh
    for j, least in enumerate(needed):
        drift = a * state + steps_in[j]
        if drift < least and rise[j] > 0:
            power[j] = min((least - drift) / rise[j], most[j])
        state = drift + rise[j] * power[j]
        if not low[j] - _TOLERANCE <= state <= high[j] + _TOLERANCE:
            return None
    return np.array(power)


def _back_pass(
    bound: FloatArray, step_in: FloatArray, a: float, keep: Callable[[float, float], float]
) -> FloatArray:
    """level[j] = keep(bound[j], (level[j+1] − step_in[j+1]) / a): the state at j from which the
    bound can be kept at every later state when each step adds at most (or at least) step_in."""
    bounds, steps = bound.tolist(), step_in.tolist()
    level = bounds[-1:]
    for j in range(len(bounds) - 2, -1, -1):
        level.append(keep(bounds[j], (level[-1] - steps[j + 1]) / a))
    return np.array(level[::-1])


def _breaks_soft_capacity(storage: Storage, power: FloatArray) -> bool:
    """Does it charge or discharge above a soft power limit? (Its breach price is the LP's to
    weigh against charging later.)"""
    most_in = np.nan_to_num(storage.soft_consumption_capacity_kw, nan=np.inf)
    most_out = np.nan_to_num(storage.soft_production_capacity_kw, nan=np.inf)
    return bool(np.any(power > most_in + _TOLERANCE) or np.any(-power > most_out + _TOLERANCE))


def _within_site_limits(context: FlexContext, net_kw: FloatArray) -> bool:
    """Does the baseline keep every site limit, hard and soft? (Else the LP weighs them.)"""
    imports, exports = np.maximum(net_kw, 0.0), np.maximum(-net_kw, 0.0)
    consumption, production = context.site_consumption, context.site_production
    return bool(
        np.all(imports <= np.fmin(consumption.hard_kw, consumption.soft_kw) + _TOLERANCE)
        and np.all(exports <= np.fmin(production.hard_kw, production.soft_kw) + _TOLERANCE)
    )
