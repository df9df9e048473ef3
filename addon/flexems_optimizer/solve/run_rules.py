"""Run-time rules of an on/off device: minimum run and pause, a cap on starts, a price per
start, and the state before the horizon, on its per-step on/off binaries u.

Start and stop indicators v, w ∈ [0, 1] (integral once u is) with u_t − u_{t−1} = v_t − w_t,
and the turn-on / turn-off inequalities, which describe the convex hull of one device's on/off
schedules (Rajan and Takriti; Malkin): a run started within the last UT steps keeps it on,
Σ_{τ=t−UT+1..t} v_τ ≤ u_t; a stop within the last DT steps keeps it off,
Σ_{τ=t−DT+1..t} w_τ ≤ 1 − u_t; at most K starts, Σ v ≤ K. The state before the horizon is
u_{−1} (off when unknown: a start at the first step counts); what is left of a minimum run or
pause already begun fixes the first steps.
"""

from __future__ import annotations

import numpy as np

from ..problem.model import RunRules
from ..problem.timegrid import FloatArray
from .builder import IntArray, ModelBuilder


def add_run_rules(builder: ModelBuilder, rules: RunRules, running: IntArray) -> IntArray:
    """Start/stop indicators for the on/off binaries `running`, with the minimum run and pause,
    the starts cap and the state before the horizon. Returns the start indicators."""
    n = running.size
    starts = builder.columns(n, upper=1.0, cost=rules.start_cost)
    stops = builder.columns(n, upper=1.0)
    # u_t − u_{t−1} − v_t + w_t = 0, with u_{−1} on the right-hand side (off when unknown).
    rhs = np.zeros(n)
    rhs[0] = float(bool(rules.initial_on))
    transition = builder.rows(n, lower=rhs, upper=rhs)
    builder.coefficients(transition, running, 1.0)
    builder.coefficients(transition[1:], running[:-1], -1.0)
    builder.coefficients(transition, starts, -1.0)
    builder.coefficients(transition, stops, 1.0)
    if rules.initial_on is not None:
        hold = min(rules.initial_hold_steps, n)
        state = float(rules.initial_on)
        held = builder.rows(hold, lower=state, upper=state)
        builder.coefficients(held, running[:hold], 1.0)
    for window, sign, bound in (
        (rules.min_run_steps, -1.0, 0.0),  # Σ v − u_t ≤ 0
        (rules.min_off_steps, 1.0, 1.0),  # Σ w + u_t ≤ 1
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
    if rules.max_starts is not None:
        cap = builder.rows(1, upper=float(rules.max_starts))
        builder.coefficients(cap, starts, 1.0)
    if rules.max_starts_per_day is not None:
        day_of_step = rules.day_of_step(n)
        per_day = builder.rows(int(day_of_step[-1]) + 1, upper=float(rules.max_starts_per_day))
        builder.coefficients(per_day[day_of_step], starts, 1.0)
    return starts


def respect_run_rules(on: FloatArray, rules: RunRules) -> FloatArray:
    """A 0/1 schedule made to keep the run-time rules, for a warm start: the state before the
    plan holds its steps, and left to right every start runs its minimum and every stop pauses
    its minimum (a later switch that comes too soon is overridden); starts beyond max-starts
    are dropped, and those beyond a day's max-starts-per-day (their runs merged into the
    pause)."""
    schedule = np.round(on).astype(np.float64)
    n = schedule.size
    before = float(bool(rules.initial_on))
    schedule[: min(rules.initial_hold_steps, n)] = before
    day_of_step = rules.day_of_step(n)
    starts_per_day = np.zeros(int(day_of_step[-1]) + 1 if n else 0, dtype=np.int64)
    previous, starts, t = before, 0, 0
    while t < n:
        state = schedule[t]
        if state != previous:
            if state and _no_start_left(rules, starts, int(starts_per_day[day_of_step[t]])):
                schedule[t] = 0.0
                t += 1
                continue
            length = rules.min_run_steps if state else rules.min_off_steps
            schedule[t : t + length] = state
            starts += int(state)
            starts_per_day[day_of_step[t]] += int(state)
            previous = state
            t += length
            continue
        t += 1
    return schedule


def _no_start_left(rules: RunRules, starts: int, starts_today: int) -> bool:
    return (rules.max_starts is not None and starts >= rules.max_starts) or (
        rules.max_starts_per_day is not None and starts_today >= rules.max_starts_per_day
    )
