"""Reusable pieces of a formulation: soft upper limits with breach prices, priced peaks, and
on/off power (zero or between a minimum and the capacity)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.timegrid import FloatArray
from .builder import IntArray, ModelBuilder


@dataclass(frozen=True)
class SoftLimit:
    """x[t] ≤ limit[t] + breach[t] at `steps`; the largest breach is `worst`.

    FlexMeasures charges a capacity breach price (per kW) both on every step's breach (as a
    price per kWh of breach energy) and once on the largest breach over the horizon.
    """

    steps: IntArray
    breach: IntArray
    worst: int
    rows: IntArray


def soft_upper_limit(
    builder: ModelBuilder,
    cols: IntArray,
    limit_kw: FloatArray,
    price_per_kw: float,
    step_hours: float,
    minus: IntArray | None = None,
) -> SoftLimit | None:
    """x[t] (− minus[t]) ≤ limit[t] + breach[t] wherever the limit is finite."""
    steps = np.flatnonzero(np.isfinite(limit_kw))
    if steps.size == 0:
        return None
    breach = builder.columns(steps.size, cost=price_per_kw * step_hours)
    worst = int(builder.columns(1, cost=price_per_kw)[0])
    rows = builder.rows(steps.size, upper=limit_kw[steps])
    builder.coefficients(rows, cols[steps], 1.0)
    if minus is not None:
        builder.coefficients(rows, minus[steps], -1.0)
    builder.coefficients(rows, breach, -1.0)
    worst_rows = builder.rows(steps.size, upper=0.0)
    builder.coefficients(worst_rows, breach, 1.0)
    builder.coefficients(worst_rows, np.full(steps.size, worst), -1.0)
    return SoftLimit(steps=steps, breach=breach, worst=worst, rows=rows)


@dataclass(frozen=True)
class PeakExcess:
    """excess ≥ x[t] − already_reached for every t, priced once per kW."""

    column: int
    rows: IntArray


def peak_excess(
    builder: ModelBuilder, cols: IntArray, already_reached_kw: float, price_per_kw: float
) -> PeakExcess | None:
    if price_per_kw <= 0:
        return None
    column = int(builder.columns(1, cost=price_per_kw)[0])
    rows = builder.rows(cols.size, upper=already_reached_kw)
    builder.coefficients(rows, cols, 1.0)
    builder.coefficients(rows, np.full(cols.size, column), -1.0)
    return PeakExcess(column=column, rows=rows)


def on_off_power(
    builder: ModelBuilder,
    power: IntArray,
    capacity: FloatArray,
    minimum: float | FloatArray,
    decides: str,
) -> IntArray:
    """A binary u per step with minimum·u ≤ power ≤ capacity·u: power is 0 or in
    [minimum, capacity]; u is 0 where the capacity is (an EV away is not charging, also for
    its run-time rules). Returns the binaries, which say they decide `decides`."""
    n = power.size
    on = builder.columns(
        n, upper=(capacity > 0).astype(np.float64), integer=True,
        steps=np.arange(n, dtype=np.int64), decides=decides,
    )  # fmt: skip
    at_most = builder.rows(n, upper=0.0)
    builder.coefficients(at_most, power, 1.0)
    builder.coefficients(at_most, on, -capacity)
    at_least = builder.rows(n, lower=0.0)
    builder.coefficients(at_least, power, 1.0)
    builder.coefficients(at_least, on, -minimum)
    return on
