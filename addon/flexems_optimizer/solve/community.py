"""What a member's plan tells its community host: the signal's weight in the plan, how far the
plan goes over the share it was given, and the marginal value of that share per step (what
one more kW would save: the figure a marginal-value policy moves capacity by)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..problem.model import FlexContext, SiteProblem
from ..problem.timegrid import FloatArray
from .compile import CompiledProblem
from .highs import Solution
from .limits import SoftLimit
from .results import SiteResult


def takes_part_in_community(context: FlexContext) -> bool:
    return (
        context.community_price is not None
        or context.community_consumption_kw is not None
        or context.community_production_kw is not None
    )


def community_section(
    problem: SiteProblem, compiled: CompiledProblem, solution: Solution, result: SiteResult
) -> dict[str, Any]:
    """`signal_eur`: what the community price weighed in the plan (not money: it steers);
    `over_share_kwh`: energy over the shares; `*_marginal_value_eur_per_kw` per step (0 where
    the share does not bind)."""
    context = problem.flex_context
    n, dt = problem.grid.n_steps, problem.grid.step_hours
    signal = context.community_price
    section: dict[str, Any] = {
        "signal_eur": round(float(dt * signal @ result.net_kw), 9) if signal is not None else 0.0
    }
    over = 0.0
    for side, share, flow, soft in (
        ("consumption", context.community_consumption_kw, result.net_kw,
         compiled.site.community_consumption),
        ("production", context.community_production_kw, -result.net_kw,
         compiled.site.community_production),
    ):  # fmt: skip
        if share is not None:
            over += float(np.maximum(flow - share, 0.0).sum()) * dt
        values = _share_values(soft, n, solution, compiled.objective_scale)
        section[f"{side}_marginal_value_eur_per_kw"] = (np.round(values, 9) + 0.0).tolist()
    section["over_share_kwh"] = round(over, 9)
    return section


def _share_values(soft: SoftLimit | None, n: int, solution: Solution, scale: float) -> FloatArray:
    values = np.zeros(n)
    if soft is not None and solution.row_dual.size:
        values[soft.steps] = np.maximum(-solution.row_dual[soft.rows], 0.0) / scale
    return values
