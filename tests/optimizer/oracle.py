"""An independent formulation of the site problem, written from the spec for scipy's milp.

Deliberately naive: one dense-ish row at a time, binaries on every step of every device
(FlexMeasures' full MILP), no lazy tricks. Only the parsed inputs are shared with the optimizer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from flexems_optimizer.problem.model import (
    HeatPump,
    Process,
    ProcessPolicy,
    RunRules,
    SiteProblem,
    Storage,
)
from flexems_optimizer.problem.timegrid import TimeGrid

INF = math.inf


@dataclass
class _Model:
    cost: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[tuple[dict[int, float], float, float]] = field(default_factory=list)

    def var(
        self, lower: float = 0.0, upper: float = INF, cost: float = 0.0, integer: bool = False
    ) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(1 if integer else 0)
        return len(self.cost) - 1

    def row(self, terms: dict[int, float], lower: float = -INF, upper: float = INF) -> None:
        self.rows.append((terms, lower, upper))


def keeps_within_physical_bounds_when_idle(storage: Storage, a: float, b: float, dt: float) -> bool:
    """The spec: soc-min/soc-max are hard unless the idle device would leave them."""
    level = storage.soc_at_start_kwh
    levels = [level]
    for gain in storage.net_gain_kw:
        level = a * level + b * dt * gain
        levels.append(level)
    return all(storage.soc_min_kwh - 1e-9 <= v <= storage.soc_max_kwh + 1e-9 for v in levels)


def optimal_cost(problem: SiteProblem) -> float:
    """The minimal total cost (energy + peak + breach + starts) in EUR; inf when infeasible."""
    grid, ctx = problem.grid, problem.flex_context
    n, dt = grid.n_steps, grid.step_hours
    m = _Model()
    device_power: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    # Heat pumps first: their heat enters their sink's rows below.
    heat_into: dict[str, list[list[tuple[int, float]]]] = {}
    for pump in problem.devices:
        if not isinstance(pump, HeatPump):
            continue
        flows = heat_into.setdefault(pump.heats, [[] for _ in range(n)])
        running: list[int] = []
        for t in range(n):
            cap = float(pump.power_capacity_kw[t])
            p = m.var(0, cap)
            if pump.min_power_kw:
                on = m.var(0, 1, integer=True)
                m.row({p: 1, on: -cap}, upper=0)
                m.row({p: 1, on: -min(pump.min_power_kw, cap)}, lower=0)
                running.append(on)
            flows[t].append((p, float(pump.cop[t])))
            device_power[t].append((p, 1.0))
        if running and pump.run_rules.active:
            _plain_run_rules(m, pump.run_rules, running, _calendar_days(grid))
    for process in problem.devices:
        if not isinstance(process, Process):
            continue
        length = process.profile_kw.size
        if process.policy is ProcessPolicy.BREAKABLE:
            picks = {t: m.var(0, 1, integer=True) for t in range(n) if process.allowed_steps[t]}
            m.row(dict.fromkeys(picks.values(), 1.0), length, length)
            for t, pick in picks.items():
                device_power[t].append((pick, float(process.profile_kw[0])))
        else:
            starts = [int(k) for k in process.allowed_starts]
            if process.policy is ProcessPolicy.INFLEXIBLE:
                starts = starts[:1]
            chosen = {k: m.var(0, 1, integer=True) for k in starts}
            m.row(dict.fromkeys(chosen.values(), 1.0), 1, 1)
            for k, start in chosen.items():
                for offset in range(length):
                    device_power[k + offset].append((start, float(process.profile_kw[offset])))
    for storage in problem.devices:
        if not isinstance(storage, Storage):
            continue
        eps = storage.storage_efficiency_per_step
        a = eps
        b = 1.0 if eps == 1.0 else (eps - 1.0) / math.log(eps)
        soc_price_low = storage.lower_breach_price or ctx.soc_minima_breach_price_per_kwh
        soc_price_high = storage.upper_breach_price or ctx.soc_maxima_breach_price_per_kwh
        assert soc_price_low is not None and soc_price_high is not None  # relaxed problems only
        physical_hard = keeps_within_physical_bounds_when_idle(storage, a, b, dt)
        # Storage misses cost once more at their largest (FlexMeasures' pricing); heat sinks not.
        worst_short = worst_over = None
        if not storage.is_heat_sink:
            worst_short, worst_over = m.var(cost=soc_price_low), m.var(cost=soc_price_high)
        previous: int | None = None
        chargings: list[int] = []
        for t in range(n):
            c = m.var(0, storage.consumption_capacity_kw[t])
            d = m.var(0, storage.production_capacity_kw[t])
            if storage.min_charging_kw is not None:  # charging is 0 or at least the minimum
                charging = m.var(0, 1, integer=True)
                m.row({c: 1, charging: -storage.consumption_capacity_kw[t]}, upper=0)
                m.row({c: 1, charging: -float(storage.min_charging_kw[t])}, lower=0)
                if storage.consumption_capacity_kw[t] <= 0:  # away: not charging
                    m.row({charging: 1}, upper=0)
                chargings.append(charging)
            s = m.var(-INF, INF)
            z = m.var(0, 1, integer=True)
            m.row({c: 1, z: -storage.consumption_capacity_kw[t]}, upper=0)
            m.row(
                {d: 1, z: storage.production_capacity_kw[t]},
                upper=storage.production_capacity_kw[t],
            )
            terms = {
                s: 1.0,
                c: -b * dt * storage.charging_efficiency,
                d: b * dt / storage.discharging_efficiency,
            }
            for pump_power, cop in heat_into.get(storage.name, [[] for _ in range(n)])[t]:
                terms[pump_power] = -b * dt * storage.heat_input_per_kw * cop
            rhs = b * dt * storage.net_gain_kw[t]
            if previous is None:
                rhs += a * storage.soc_at_start_kwh
            else:
                terms[previous] = -a
            m.row(terms, rhs, rhs)
            if physical_hard:
                m.lower[s], m.upper[s] = storage.soc_min_kwh, storage.soc_max_kwh
                low, high = [-INF], [INF]
            else:
                low, high = [storage.soc_min_kwh], [storage.soc_max_kwh]
            low.append(storage.soc_minima_kwh[t])
            high.append(storage.soc_maxima_kwh[t])
            for target in storage.targets:
                if target.state_index == t:
                    low.append(target.value_kwh)
                    high.append(target.value_kwh)
            low_bound = max(v for v in low if not math.isnan(v))
            high_bound = min(v for v in high if not math.isnan(v))
            short = m.var(cost=soc_price_low)
            over = m.var(cost=soc_price_high)
            m.row({s: 1, short: 1}, lower=low_bound)
            m.row({s: 1, over: -1}, upper=high_bound)
            if worst_short is not None and worst_over is not None:
                m.row({short: 1, worst_short: -1}, upper=0)
                m.row({over: 1, worst_over: -1}, upper=0)
            if not storage.is_heat_sink:
                device_power[t] += [(c, 1.0), (d, -1.0)]
            previous = s
        if chargings and storage.run_rules.active:
            _plain_run_rules(m, storage.run_rules, chargings, _calendar_days(grid))

    weights_in, weights_out = ctx.consumption_price, ctx.production_price
    limits = (ctx.site_consumption, ctx.site_production)
    worst = [m.var(cost=limits[0].breach_price_per_kw), m.var(cost=limits[1].breach_price_per_kw)]
    peaks = [
        m.var(cost=ctx.site_peak_consumption_price_per_kw),
        m.var(cost=ctx.site_peak_production_price_per_kw),
    ]
    already = [ctx.site_peak_consumption_kw, ctx.site_peak_production_kw]
    # The most the site can import or export per step: tight bounds for the direction binary,
    # so that a binary within HiGHS' integrality tolerance (1e-6) lets no real power through.
    most_in, most_out = _site_bounds(problem)
    for t in range(n):
        imp = m.var(0, INF, weights_in[t] * dt)
        exp = m.var(0, INF, -weights_out[t] * dt)
        if weights_out[t] > weights_in[t]:
            y = m.var(0, 1, integer=True)
            m.row({imp: 1, y: -most_in[t]}, upper=0)
            m.row({exp: 1, y: most_out[t]}, upper=most_out[t])
        terms = {imp: 1.0, exp: -1.0}
        for col, sign in device_power[t]:
            terms[col] = terms.get(col, 0.0) - sign
        rhs = ctx.inflexible_consumption_kw[t] - ctx.inflexible_production_kw[t]
        m.row(terms, rhs, rhs)
        for side, flow in enumerate((imp, exp)):
            limit = limits[side]
            hard = limit.hard_kw[t]
            if math.isfinite(hard):
                m.row({flow: 1}, upper=hard)
            if math.isfinite(limit.soft_kw[t]):
                breach = m.var(cost=limit.breach_price_per_kw * dt)
                m.row({flow: 1, breach: -1}, upper=limit.soft_kw[t])
                m.row({breach: 1, worst[side]: -1}, upper=0)
            m.row({flow: 1, peaks[side]: -1}, upper=already[side])

    a_matrix = lil_matrix((len(m.rows), len(m.cost)))
    for i, (terms, _, _) in enumerate(m.rows):
        for col, value in terms.items():
            a_matrix[i, col] = value
    result = milp(
        np.array(m.cost),
        constraints=LinearConstraint(
            a_matrix.tocsr(), [r[1] for r in m.rows], [r[2] for r in m.rows]
        ),
        integrality=np.array(m.integer),
        bounds=Bounds(m.lower, m.upper),
        options={"mip_rel_gap": 1e-9, "presolve": True},
    )
    if result.status == 2:  # infeasible: a hard rule (e.g. a run already begun) cannot be kept
        return math.inf
    assert result.status == 0, result.message
    return float(result.fun)


def _site_bounds(problem: SiteProblem) -> tuple[list[float], list[float]]:
    """Per step, the most the site can import and export: inflexible flows plus every
    device at full power."""
    ctx, n = problem.flex_context, problem.grid.n_steps
    most_in = [float(v) for v in ctx.inflexible_consumption_kw]
    most_out = [float(v) for v in ctx.inflexible_production_kw]
    for device in problem.devices:
        for t in range(n):
            if isinstance(device, Storage) and not device.is_heat_sink:
                most_in[t] += float(device.consumption_capacity_kw[t])
                most_out[t] += float(device.production_capacity_kw[t])
            elif isinstance(device, HeatPump):
                most_in[t] += float(device.power_capacity_kw[t])
            elif isinstance(device, Process):
                most_in[t] += float(device.profile_kw.max(initial=0.0))
    return most_in, most_out


def _calendar_days(grid: TimeGrid) -> list[date]:
    """The day each step starts in, at the UTC offset of the plan's start."""
    return [(grid.start + t * grid.step).date() for t in range(grid.n_steps)]


def _plain_run_rules(m: _Model, rules: RunRules, on: list[int], days: list[date]) -> None:
    """The run-time rules written the plain way (pairwise, not the convex-hull inequalities of
    the optimizer): a start at t keeps it on for the next UT−1 steps, a stop keeps it off for
    the next DT−1; starts counted as s_t ≥ u_t − u_{t−1}; u_{−1} given (off when unknown)."""
    n = len(on)
    before = float(bool(rules.initial_on))
    for t in range(min(rules.initial_hold_steps, n)):
        m.row({on[t]: 1}, before, before)

    def change(t: int, sign: float) -> tuple[dict[int, float], float]:
        """sign·(u_t − u_{t−1}) as row terms and a constant."""
        terms = {on[t]: sign}
        if t:
            terms[on[t - 1]] = terms.get(on[t - 1], 0.0) - sign
            return terms, 0.0
        return terms, -sign * before

    for t in range(n):
        for later in range(t + 1, min(n, t + rules.min_run_steps)):
            terms, constant = change(t, 1.0)  # u_later ≥ u_t − u_{t−1}
            terms[on[later]] = terms.get(on[later], 0.0) - 1.0
            m.row(terms, upper=-constant)
        for later in range(t + 1, min(n, t + rules.min_off_steps)):
            terms, constant = change(t, -1.0)  # 1 − u_later ≥ u_{t−1} − u_t
            terms[on[later]] = terms.get(on[later], 0.0) + 1.0
            m.row(terms, upper=1.0 - constant)
    if rules.max_starts is not None or rules.max_starts_per_day is not None or rules.start_cost:
        starts = []
        for t in range(n):
            s = m.var(0, 1, cost=rules.start_cost)
            terms, constant = change(t, 1.0)  # s_t ≥ u_t − u_{t−1}
            terms[s] = -1.0
            m.row(terms, upper=-constant)
            starts.append(s)
        if rules.max_starts is not None:
            m.row(dict.fromkeys(starts, 1.0), upper=float(rules.max_starts))
        if rules.max_starts_per_day is not None:
            for day in set(days):
                today = [s for s, d in zip(starts, days, strict=True) if d == day]
                m.row(dict.fromkeys(today, 1.0), upper=float(rules.max_starts_per_day))
