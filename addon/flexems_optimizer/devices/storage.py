"""The storage block (batteries, EVs, thermal buffers as energy), FlexMeasures' formulation.

Per step j: charging c_j ≥ 0 and discharging d_j ≥ 0 (grid side, kW), device power c_j − d_j.
Stock at the end of step j:  S_j = a·S_{j−1} + b·Δt·(η_c·c_j − d_j/η_d + gain_j − usage_j)
Soft stock bounds (soc-minima, soc-maxima, soc-targets) cost their breach price per kWh missed
at each state, plus once more for the largest miss (FlexMeasures' pricing).
with a = ε and b = (ε − 1)/ln ε for a storage efficiency ε per step (a = b = 1 when ε = 1).
With a minimum charging power m_j (an EV charger's minimum current, or a switched charger's
whole capacity) a binary v_j per step gives c_j ∈ {0} ∪ [m_j, C_j]: m_j·v_j ≤ c_j ≤ C_j·v_j,
and no discharging while it charges: d_j ≤ D_j·(1 − v_j).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np

from ..problem.model import DEFAULT_SOC_BREACH_PRICE_PER_KWH, FlexContext, Storage
from ..problem.timegrid import FloatArray, TimeGrid
from ..solve.builder import IntArray, ModelBuilder, PowerTerms
from ..solve.limits import SoftLimit, on_off_power, soft_upper_limit
from ..solve.run_rules import add_run_rules


class Strictness(Enum):
    AS_GIVEN = "as-given"  # hard and soft as the problem says
    ALL_SOFT = "all-soft"  # every stock bound soft: to diagnose an infeasible problem
    # As given, but a soft bound costs at least the default breach price: kept wherever it can
    # be, as the baseline (baseline.py) keeps every minimum and target it can.
    KEPT_WHERE_POSSIBLE = "kept-where-possible"


@dataclass(frozen=True)
class SocLimits:
    """Stock bounds per state, split into hard (column bounds) and soft (priced) parts."""

    hard_lower: FloatArray
    hard_upper: FloatArray
    soft_lower: FloatArray  # NaN where no soft bound is tighter than the hard one
    soft_upper: FloatArray
    lower_source: tuple[str, ...]
    upper_source: tuple[str, ...]
    lower_price_per_kwh: float
    upper_price_per_kwh: float
    target_states: IntArray  # states with a soc-target, for marginal values


# A heat sink in °C, or an S2 FRBC storage, says in its own words which bound a state has.
_STATE_NAMES = {
    "K": {
        "soc-min": "temperature-min",
        "soc-max": "temperature-max",
        "soc-minima": "comfort-min",
        "soc-maxima": "comfort-max",
        "soc-targets": "temperature-targets",
    },
    "fill level": {"soc-minima": "fill-level-min", "soc-maxima": "fill-level-max"},
}


def idle_trajectory(storage: Storage, step_hours: float) -> FloatArray:
    """The stock per state if the device does nothing: usage, gain and losses alone."""
    a, b = stock_coefficients(storage)
    step_change = b * step_hours * storage.net_gain_kw
    if a == 1.0:
        return storage.soc_at_start_kwh + np.cumsum(step_change)
    powers = a ** np.arange(1, step_change.size + 1, dtype=np.float64)
    if powers[-1] > 1e-100:
        # S_j = a^(j+1)·S_0 + Σ_k a^(j−k)·Δ_k, without a Python loop.
        trajectory: FloatArray = powers * (
            storage.soc_at_start_kwh + np.cumsum(step_change / powers)
        )
        return trajectory
    # Strong losses over a long horizon: a^j underflows, so step through.
    trajectory = np.empty(step_change.size)
    level = storage.soc_at_start_kwh
    for j, change in enumerate(step_change.tolist()):
        level = a * level + change
        trajectory[j] = level
    return trajectory


def keeps_physical_bounds_alone(storage: Storage, step_hours: float) -> bool:
    """Can the device stay within soc-min and soc-max without help? (Then they can be hard.)"""
    idle = idle_trajectory(storage, step_hours)
    return bool(
        storage.soc_min_kwh - 1e-9 <= storage.soc_at_start_kwh <= storage.soc_max_kwh + 1e-9
        and np.all(idle >= storage.soc_min_kwh - 1e-9)
        and np.all(idle <= storage.soc_max_kwh + 1e-9)
    )


def soc_limits(
    storage: Storage, context: FlexContext, strictness: Strictness, step_hours: float
) -> SocLimits:
    """Split the stock bounds into hard and soft parts.

    soc-min and soc-max are physical limits and stay hard, as in FlexMeasures, unless the device
    cannot keep them by itself (it starts outside them, or usage, gain or losses push it out);
    then relax-constraints makes them soft too, so that a relaxed plan always exists.
    """
    n = storage.soc_minima_kwh.size
    target_low = np.full(n, np.nan)
    target_high = np.full(n, np.nan)
    for target in storage.targets:
        j = target.state_index
        target_low[j] = np.fmax(target_low[j], target.value_kwh)
        target_high[j] = np.fmin(target_high[j], target.value_kwh)
    all_soft = strictness is Strictness.ALL_SOFT
    relax = all_soft or (
        context.relax_constraints and not keeps_physical_bounds_alone(storage, step_hours)
    )
    min_price = context.soc_minima_breach_price_per_kwh
    max_price = context.soc_maxima_breach_price_per_kwh
    if storage.lower_breach_price is not None:
        min_price = storage.lower_breach_price
    if storage.upper_breach_price is not None:
        max_price = storage.upper_breach_price
    lower_price = DEFAULT_SOC_BREACH_PRICE_PER_KWH if all_soft else min_price
    upper_price = DEFAULT_SOC_BREACH_PRICE_PER_KWH if all_soft else max_price
    if strictness is Strictness.KEPT_WHERE_POSSIBLE:
        lower_price = max(lower_price or 0.0, DEFAULT_SOC_BREACH_PRICE_PER_KWH)
        upper_price = max(upper_price or 0.0, DEFAULT_SOC_BREACH_PRICE_PER_KWH)
    low_hard, low_soft, low_source = _combine(
        {
            "soc-min": (np.full(n, storage.soc_min_kwh), relax),
            "soc-minima": (storage.soc_minima_kwh, all_soft or min_price is not None),
            "soc-targets": (target_low, all_soft or min_price is not None),
        },
        np.fmax,
        -np.inf,
    )
    high_hard, high_soft, high_source = _combine(
        {
            "soc-max": (np.full(n, storage.soc_max_kwh), relax),
            "soc-maxima": (storage.soc_maxima_kwh, all_soft or max_price is not None),
            "soc-targets": (target_high, all_soft or max_price is not None),
        },
        np.fmin,
        np.inf,
    )
    low_soft[low_soft <= low_hard] = np.nan
    high_soft[high_soft >= high_hard] = np.nan
    names = _STATE_NAMES.get(storage.state_unit)
    if names is not None:
        low_source = tuple(names.get(s, s) for s in low_source)
        high_source = tuple(names.get(s, s) for s in high_source)
    return SocLimits(
        hard_lower=low_hard,
        hard_upper=high_hard,
        soft_lower=low_soft,
        soft_upper=high_soft,
        lower_source=low_source,
        upper_source=high_source,
        lower_price_per_kwh=DEFAULT_SOC_BREACH_PRICE_PER_KWH
        if lower_price is None
        else lower_price,
        upper_price_per_kwh=DEFAULT_SOC_BREACH_PRICE_PER_KWH
        if upper_price is None
        else upper_price,
        target_states=np.unique([t.state_index for t in storage.targets]).astype(np.int64),
    )


def _combine(
    candidates: dict[str, tuple[FloatArray, bool]], pick: np.ufunc, none: float
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    """The tightest hard bound, the tightest soft bound and, per state, the key that sets it."""
    n = next(iter(candidates.values()))[0].size
    hard = np.full(n, none)
    soft = np.full(n, np.nan)
    source = np.full(n, "", dtype=object)
    for name, (values, is_soft) in candidates.items():
        present = ~np.isnan(values)
        if is_soft:
            tighter = present & (np.isnan(soft) | (pick(soft, values) == values))
            soft = np.where(present, pick(soft, values), soft)
        else:
            tighter = present & (pick(hard, values) == values)
            hard = np.where(present, pick(hard, values), hard)
        source[tighter] = name
    return hard, soft, tuple(source.tolist())


@dataclass(frozen=True)
class StorageBlock:
    """Where a storage's columns and rows are, for results, duals and explanations."""

    storage: Storage
    limits: SocLimits
    charge: IntArray
    discharge: IntArray
    soc: IntArray
    dynamics: IntArray
    shortfall_states: IntArray
    shortfall: IntArray
    shortfall_rows: IntArray
    excess_states: IntArray
    excess: IntArray
    excess_rows: IntArray
    soft_charge: SoftLimit | None
    soft_discharge: SoftLimit | None
    binary_steps: IntArray
    mode: IntArray  # binaries at binary_steps: 1 = may charge, 0 = may discharge
    charging: IntArray  # binaries per step when charging has a minimum power, else empty
    heat_inflow_per_kw: float  # state rise over a step per kW of heat received in it

    def power_terms(self) -> PowerTerms:
        """Grid power per step: charging minus discharging (consumption positive)."""
        steps = np.arange(self.charge.size, dtype=np.int64)
        return PowerTerms(
            np.concatenate((steps, steps)),
            np.concatenate((self.charge, self.discharge)),
            np.concatenate((np.ones(steps.size), -np.ones(steps.size))),
        )


def stock_coefficients(storage: Storage) -> tuple[float, float]:
    """(a, b) of the stock recursion for the storage's per-step efficiency ε."""
    epsilon = storage.storage_efficiency_per_step
    if epsilon >= 1.0:
        return 1.0, 1.0
    return epsilon, (epsilon - 1.0) / math.log(epsilon)


def build_storage(
    builder: ModelBuilder,
    storage: Storage,
    context: FlexContext,
    grid: TimeGrid,
    *,
    strictness: Strictness,
    charge_cost: FloatArray,
    discharge_cost: FloatArray,
    binary_steps: IntArray,
    idle: bool = False,
    modulating: bool = False,
) -> StorageBlock:
    """Add the storage's columns and rows. `idle` fixes its power to zero; `modulating` drops
    the minimum charging power (the baseline needs no on/off detail)."""
    n = grid.n_steps
    dt = grid.step_hours
    limits = soc_limits(storage, context, strictness, dt)
    consumption_cap = np.zeros(n) if idle else storage.consumption_capacity_kw
    production_cap = np.zeros(n) if idle else storage.production_capacity_kw
    charge = builder.columns(n, upper=consumption_cap, cost=charge_cost)
    discharge = builder.columns(n, upper=production_cap, cost=discharge_cost)
    soc = builder.columns(n, lower=limits.hard_lower, upper=limits.hard_upper)

    a, b = stock_coefficients(storage)
    eta_c, eta_d = storage.charging_efficiency, storage.discharging_efficiency
    rhs = b * dt * storage.net_gain_kw
    rhs[0] += a * storage.soc_at_start_kwh
    dynamics = builder.rows(n, lower=rhs, upper=rhs)
    builder.coefficients(dynamics, soc, 1.0)
    builder.coefficients(dynamics[1:], soc[:-1], -a)
    builder.coefficients(dynamics, charge, -b * dt * eta_c)
    builder.coefficients(dynamics, discharge, b * dt / eta_d)

    shortfall_states = np.flatnonzero(~np.isnan(limits.soft_lower))
    shortfall = builder.columns(shortfall_states.size, cost=limits.lower_price_per_kwh)
    shortfall_rows = builder.rows(shortfall_states.size, lower=limits.soft_lower[shortfall_states])
    builder.coefficients(shortfall_rows, soc[shortfall_states], 1.0)
    builder.coefficients(shortfall_rows, shortfall, 1.0)

    excess_states = np.flatnonzero(~np.isnan(limits.soft_upper))
    excess = builder.columns(excess_states.size, cost=limits.upper_price_per_kwh)
    excess_rows = builder.rows(excess_states.size, upper=limits.soft_upper[excess_states])
    builder.coefficients(excess_rows, soc[excess_states], 1.0)
    builder.coefficients(excess_rows, excess, -1.0)

    if not storage.is_heat_sink:
        # As FlexMeasures: a miss is priced per state and once more on the largest miss over
        # the horizon, so that several competing targets are traded off as it does.
        for misses, price in ((shortfall, limits.lower_price_per_kwh),
                              (excess, limits.upper_price_per_kwh)):  # fmt: skip
            if misses.size:
                worst = builder.columns(1, cost=price)
                at_least = builder.rows(misses.size, upper=0.0)
                builder.coefficients(at_least, misses, 1.0)
                builder.coefficients(at_least, worst, -1.0)

    soft_charge = soft_discharge = None
    if not idle and context.device_consumption_breach_price_per_kw is not None:
        soft_charge = soft_upper_limit(
            builder, charge, storage.soft_consumption_capacity_kw,
            context.device_consumption_breach_price_per_kw, dt,
        )  # fmt: skip
    if not idle and context.device_production_breach_price_per_kw is not None:
        soft_discharge = soft_upper_limit(
            builder, discharge, storage.soft_production_capacity_kw,
            context.device_production_breach_price_per_kw, dt,
        )  # fmt: skip

    mode = np.empty(0, dtype=np.int64)
    if binary_steps.size and not idle:
        # Forbid charging and discharging in the same step where doing both could pay.
        mode = builder.columns(
            binary_steps.size, upper=1.0, integer=True, steps=binary_steps,
            decides=f"{storage.name}/direction",
        )  # fmt: skip
        charge_rows = builder.rows(binary_steps.size, upper=0.0)
        builder.coefficients(charge_rows, charge[binary_steps], 1.0)
        builder.coefficients(charge_rows, mode, -consumption_cap[binary_steps])
        discharge_rows = builder.rows(binary_steps.size, upper=production_cap[binary_steps])
        builder.coefficients(discharge_rows, discharge[binary_steps], 1.0)
        builder.coefficients(discharge_rows, mode, production_cap[binary_steps])

    charging = np.empty(0, dtype=np.int64)
    if storage.min_charging_kw is not None and not idle and not modulating:
        charging = on_off_power(
            builder, charge, consumption_cap, storage.min_charging_kw, f"{storage.name}/charging"
        )
        # No discharging while charging: else a charger held at its minimum could net less than
        # it by discharging at once (d ≤ D·(1 − v)).
        discharging = np.flatnonzero(production_cap > 0)
        if discharging.size:
            apart = builder.rows(discharging.size, upper=production_cap[discharging])
            builder.coefficients(apart, discharge[discharging], 1.0)
            builder.coefficients(apart, charging[discharging], production_cap[discharging])
        if storage.run_rules.active:
            add_run_rules(builder, storage.run_rules, charging)

    return StorageBlock(
        storage=storage,
        limits=limits,
        charge=charge,
        discharge=discharge,
        soc=soc,
        dynamics=dynamics,
        shortfall_states=shortfall_states,
        shortfall=shortfall,
        shortfall_rows=shortfall_rows,
        excess_states=excess_states,
        excess=excess,
        excess_rows=excess_rows,
        soft_charge=soft_charge,
        soft_discharge=soft_discharge,
        binary_steps=binary_steps if not idle else np.empty(0, dtype=np.int64),
        mode=mode,
        charging=charging,
        heat_inflow_per_kw=b * dt * storage.heat_input_per_kw,
    )
