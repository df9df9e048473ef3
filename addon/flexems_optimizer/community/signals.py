"""A member's signals as flex-context keys of its own site problem, and its plan as a report.

The host's signals reach a member's optimizer as three flex-context fields (PROBLEM-FORMAT):
`community-price` (EUR/kWh on net consumption per step: steers the plan, is not paid) and
`community-consumption-capacity` / `community-production-capacity` (the member's share of the
shared limit, soft). What goes back is the plan's net power and, per step, the marginal value
of those shares: nothing about devices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..problem.timegrid import FloatArray, TimeGrid


@dataclass(frozen=True)
class MemberSignals:
    price: FloatArray  # EUR/kWh per step
    consumption_kw: FloatArray  # inf: no share allocated
    production_kw: FloatArray

    def as_flex_context(self, grid: TimeGrid) -> dict[str, Any]:
        """The flex-context fields for these signals (only those that say something)."""

        def series(values: FloatArray, unit: str) -> dict[str, Any]:
            return {
                "start": grid.iso_at_boundary(0),
                "resolution": _iso_step(grid),
                "unit": unit,
                "values": [None if not np.isfinite(v) else round(float(v), 9) for v in values],
            }

        fields: dict[str, Any] = {}
        if np.any(self.price != 0):
            fields["community-price"] = series(self.price, "EUR/kWh")
        for side, values in (
            ("consumption", self.consumption_kw),
            ("production", self.production_kw),
        ):
            if np.any(np.isfinite(values)):
                fields[f"community-{side}-capacity"] = series(values, "kW")
        return fields


def with_signals(
    problem: Mapping[str, Any], grid: TimeGrid, signals: MemberSignals
) -> dict[str, Any]:
    """The member's own problem with the host's signals added to its flex-context."""
    context = dict(problem.get("flex-context") or {})
    for key in (
        "community-price",
        "community-consumption-capacity",
        "community-production-capacity",
    ):
        context.pop(key, None)
    context.update(signals.as_flex_context(grid))
    return {**problem, "flex-context": context}


@dataclass(frozen=True)
class PlanReport:
    """What a member shares of a plan."""

    net_kw: FloatArray
    consumption_value: FloatArray
    production_value: FloatArray


def report_of(plan: Mapping[str, Any]) -> PlanReport:
    net = np.asarray(plan["site"]["net_power_kw"], dtype=np.float64)
    section = plan.get("community") or {}
    zeros = [0.0] * net.size
    return PlanReport(
        net_kw=net,
        consumption_value=np.asarray(
            section.get("consumption_marginal_value_eur_per_kw", zeros), dtype=np.float64
        ),
        production_value=np.asarray(
            section.get("production_marginal_value_eur_per_kw", zeros), dtype=np.float64
        ),
    )


def plan_cost(plan: Mapping[str, Any]) -> float:
    """What the member pays (as `central.member_cost`): energy, peaks, starts."""
    costs = plan["costs"]
    return float(costs["energy_eur"] + costs["peak_eur"] + costs["start_eur"])


def _iso_step(grid: TimeGrid) -> str:
    return f"PT{int(grid.step.total_seconds())}S"
