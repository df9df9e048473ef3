"""The heat pump block: electrical power P per step, heat COP·P into its heat sink.

With a minimum running power (or on/off operation) a binary u per step gives
P ∈ {0} ∪ [P_min, P_max]; otherwise P is continuous in [0, P_max] and the block is linear.

Run-time rules use start and stop indicators v, w ∈ [0, 1] (integral once u is) with
u_t − u_{t−1} = v_t − w_t, and the turn-on / turn-off inequalities, which describe the convex
hull of one device's on/off schedules (Rajan and Takriti; Malkin): a run started within the
last UT steps keeps it on, Σ_{τ=t−UT+1..t} v_τ ≤ u_t; a stop within the last DT steps keeps it
off, Σ_{τ=t−DT+1..t} w_τ ≤ 1 − u_t; at most K starts, Σ v ≤ K. The state before the horizon
is u_{−1} (off when unknown: a start at the first step counts); what is left of a minimum run
or pause already begun fixes the first steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.model import HeatPump
from ..problem.timegrid import FloatArray, TimeGrid
from ..solve.builder import IntArray, ModelBuilder, PowerTerms
from ..solve.limits import on_off_power
from .storage import StorageBlock


@dataclass(frozen=True)
class HeatPumpBlock:
    heat_pump: HeatPump
    power: IntArray
    running: IntArray  # binaries, empty when the heat pump modulates from zero
    starts: IntArray  # start indicators, empty without run-time rules

    def power_terms(self) -> PowerTerms:
        return PowerTerms(
            np.arange(self.power.size, dtype=np.int64), self.power, np.ones(self.power.size)
        )


def build_heat_pump(
    builder: ModelBuilder,
    heat_pump: HeatPump,
    sink: StorageBlock,
    grid: TimeGrid,
    *,
    power_cost: FloatArray,
    idle: bool = False,
    modulating: bool = False,
) -> HeatPumpBlock:
    """`modulating` drops the minimum power (the baseline needs no on/off detail)."""
    n = grid.n_steps
    capacity = np.zeros(n) if idle else heat_pump.power_capacity_kw
    power = builder.columns(n, upper=capacity, cost=power_cost)
    # Heat raises the sink's state: the sink's dynamics row gets −(state per kW)·COP·P.
    builder.coefficients(sink.dynamics, power, -sink.heat_inflow_per_kw * heat_pump.cop)
    running = np.empty(0, dtype=np.int64)
    if heat_pump.needs_binaries and not idle and not modulating:
        assert heat_pump.min_power_kw is not None
        minimum = np.minimum(heat_pump.min_power_kw, capacity)
        running = on_off_power(builder, power, capacity, minimum)
    starts = np.empty(0, dtype=np.int64)
    if running.size and heat_pump.has_run_rules:
        starts = _run_rules(builder, heat_pump, running)
    return HeatPumpBlock(heat_pump=heat_pump, power=power, running=running, starts=starts)


def _run_rules(builder: ModelBuilder, heat_pump: HeatPump, running: IntArray) -> IntArray:
    """Start/stop indicators and the minimum run and pause, starts cap and initial state."""
    n = running.size
    starts = builder.columns(n, upper=1.0, cost=heat_pump.start_cost)
    stops = builder.columns(n, upper=1.0)
    # u_t − u_{t−1} − v_t + w_t = 0, with u_{−1} on the right-hand side (off when unknown).
    rhs = np.zeros(n)
    rhs[0] = float(bool(heat_pump.initial_on))
    transition = builder.rows(n, lower=rhs, upper=rhs)
    builder.coefficients(transition, running, 1.0)
    builder.coefficients(transition[1:], running[:-1], -1.0)
    builder.coefficients(transition, starts, -1.0)
    builder.coefficients(transition, stops, 1.0)
    if heat_pump.initial_on is not None:
        hold = min(heat_pump.initial_hold_steps, n)
        state = float(heat_pump.initial_on)
        held = builder.rows(hold, lower=state, upper=state)
        builder.coefficients(held, running[:hold], 1.0)
    for window, sign, bound in (
        (heat_pump.min_run_steps, -1.0, 0.0),  # Σ v − u_t ≤ 0
        (heat_pump.min_off_steps, 1.0, 1.0),  # Σ w + u_t ≤ 1
    ):
        if window <= 1:
            continue
        indicators = starts if sign < 0 else stops
        rows = builder.rows(n, upper=bound)
        builder.coefficients(rows, running, sign)
        # Row t sums the indicators of steps t−window+1 … t (within the horizon).
        lag = np.arange(window)
        row_of = np.repeat(np.arange(n), window)
        step_of = row_of - np.tile(lag, n)
        keep = step_of >= 0
        builder.coefficients(rows[row_of[keep]], indicators[step_of[keep]], 1.0)
    if heat_pump.max_starts is not None:
        cap = builder.rows(1, upper=float(heat_pump.max_starts))
        builder.coefficients(cap, starts, 1.0)
    return starts


def respect_run_rules(on: FloatArray, heat_pump: HeatPump) -> FloatArray:
    """A 0/1 schedule made to keep the run-time rules, for a warm start: the state before the
    plan holds its steps, and left to right every start runs its minimum and every stop pauses
    its minimum (a later switch that comes too soon is overridden); starts beyond max-starts
    are dropped (their runs merged into the pause)."""
    schedule = np.round(on).astype(np.float64)
    n = schedule.size
    before = float(bool(heat_pump.initial_on))
    schedule[: min(heat_pump.initial_hold_steps, n)] = before
    previous, starts, t = before, 0, 0
    while t < n:
        state = schedule[t]
        if state != previous:
            if state and heat_pump.max_starts is not None and starts >= heat_pump.max_starts:
                schedule[t] = 0.0
                t += 1
                continue
            length = heat_pump.min_run_steps if state else heat_pump.min_off_steps
            schedule[t : t + length] = state
            starts += int(state)
            previous = state
            t += length
            continue
        t += 1
    return schedule
