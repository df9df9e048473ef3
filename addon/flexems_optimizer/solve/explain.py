"""Why the plan is what it is: binding constraints and marginal values from the LP duals.

HiGHS reports, for a minimisation, the change of the objective per unit increase of a row's
active bound (row dual) or a column's active bound (reduced cost). Divided by the objective
scale they are in currency per kWh (stock bounds) or per kW (power limits).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from ..devices.storage import StorageBlock
from ..problem.timegrid import FloatArray, TimeGrid
from .builder import IntArray
from .compile import CompiledProblem
from .highs import Solution
from .limits import SoftLimit

DUAL_TOLERANCE = 1e-7  # in solver units (objective scaled to ~1 per kW-step)
AT_BOUND = 1e-6


def explain(compiled: CompiledProblem, solution: Solution, grid: TimeGrid) -> dict[str, Any]:
    if solution.col_dual.size == 0:
        return {"binding": [], "soc_targets": [], "site_capacity": {}, "duals": "unavailable"}
    scale = compiled.objective_scale
    x, col_dual, row_dual = solution.x, solution.col_dual, solution.row_dual
    binding: list[dict[str, Any]] = []
    targets: list[dict[str, Any]] = []
    for block in compiled.devices:
        binding += _storage_binding(block, x, col_dual, row_dual, grid)
        targets += _target_values(block, col_dual, row_dual, scale, grid)
    site_capacity = {}
    for side, cols, soft in (
        ("consumption", compiled.site.imports, compiled.site.soft_consumption),
        ("production", compiled.site.exports, compiled.site.soft_production),
    ):
        per_step = _upper_bound_values(
            cols, compiled.lp.col_upper[cols], x, col_dual
        ) + _soft_limit_values(soft, cols.size, row_dual)
        steps = np.flatnonzero(per_step < -DUAL_TOLERANCE)
        if steps.size:
            binding.append(_group(f"site-{side}-capacity", None, steps, grid, states=False))
        site_capacity[side] = {
            "marginal_value_eur_per_kw": round(float(-per_step.sum()) / scale, 9),
            "binding_steps": int(steps.size),
            "first_binding": grid.iso_at_boundary(int(steps[0])) if steps.size else None,
        }
    for name, peak in (
        ("site-peak-consumption", compiled.site.peak_consumption),
        ("site-peak-production", compiled.site.peak_production),
    ):
        if peak is not None and x[peak.column] > AT_BOUND:
            steps = np.flatnonzero(row_dual[peak.rows] < -DUAL_TOLERANCE)
            entry = _group(name, None, steps, grid, states=False)
            entry["excess_kw"] = round(float(x[peak.column]), 9)
            binding.append(entry)
    return {"binding": binding, "soc_targets": targets, "site_capacity": site_capacity}


def _upper_bound_values(
    cols: IntArray, upper: FloatArray, x: FloatArray, col_dual: FloatArray
) -> FloatArray:
    """Reduced costs of columns sitting at a finite upper bound (0 elsewhere)."""
    at_upper = np.isfinite(upper) & (x[cols] >= upper - AT_BOUND) & (upper > AT_BOUND)
    return np.where(at_upper, np.minimum(col_dual[cols], 0.0), 0.0)


def _soft_limit_values(soft: SoftLimit | None, n: int, row_dual: FloatArray) -> FloatArray:
    values = np.zeros(n)
    if soft is not None:
        values[soft.steps] = np.minimum(row_dual[soft.rows], 0.0)
    return values


def _storage_binding(
    block: StorageBlock, x: FloatArray, col_dual: FloatArray, row_dual: FloatArray, grid: TimeGrid
) -> list[dict[str, Any]]:
    name = block.storage.name
    limits = block.limits
    soc_dual = col_dual[block.soc]
    soc = x[block.soc]
    lower = np.zeros(soc.size)
    upper = np.zeros(soc.size)
    at_low = np.isfinite(limits.hard_lower) & (soc <= limits.hard_lower + AT_BOUND)
    at_high = np.isfinite(limits.hard_upper) & (soc >= limits.hard_upper - AT_BOUND)
    lower[at_low] = np.maximum(soc_dual[at_low], 0.0)
    upper[at_high] = np.minimum(soc_dual[at_high], 0.0)
    lower[block.shortfall_states] += np.maximum(row_dual[block.shortfall_rows], 0.0)
    upper[block.excess_states] += np.minimum(row_dual[block.excess_rows], 0.0)
    groups: dict[str, list[int]] = defaultdict(list)
    for state in np.flatnonzero(lower > DUAL_TOLERANCE):
        groups[limits.lower_source[state]].append(int(state))
    for state in np.flatnonzero(upper < -DUAL_TOLERANCE):
        groups[limits.upper_source[state]].append(int(state))
    found = [
        _group(key, name, np.asarray(states), grid, states=True) for key, states in groups.items()
    ]
    for key, cols in (
        ("consumption-capacity", block.charge),
        ("production-capacity", block.discharge),
    ):
        values = _upper_bound_values(cols, _col_upper(block, key), x, col_dual)
        steps = np.flatnonzero(values < -DUAL_TOLERANCE)
        if steps.size:
            found.append(_group(key, name, steps, grid, states=False))
    return found


def _col_upper(block: StorageBlock, key: str) -> FloatArray:
    storage = block.storage
    return (
        storage.consumption_capacity_kw
        if key == "consumption-capacity"
        else storage.production_capacity_kw
    )


def _target_values(
    block: StorageBlock,
    col_dual: FloatArray,
    row_dual: FloatArray,
    scale: float,
    grid: TimeGrid,
) -> list[dict[str, Any]]:
    """EUR per kWh that one more kWh of each soc-target would cost (negative: would save)."""
    found = []
    shortfall_row = dict(
        zip(block.shortfall_states.tolist(), block.shortfall_rows.tolist(), strict=True)
    )
    excess_row = dict(zip(block.excess_states.tolist(), block.excess_rows.tolist(), strict=True))
    for target in block.storage.targets:
        state = target.state_index
        value = 0.0
        if state in shortfall_row or state in excess_row:
            value += float(row_dual[shortfall_row[state]]) if state in shortfall_row else 0.0
            value += float(row_dual[excess_row[state]]) if state in excess_row else 0.0
        elif (
            block.limits.lower_source[state] == "soc-targets"
            or block.limits.upper_source[state] == "soc-targets"
        ):
            value = float(col_dual[block.soc[state]])
        in_celsius = block.storage.state_unit == "K"
        found.append(
            {
                "device": block.storage.name,
                "at": grid.iso_at_boundary(state + 1),
                "target_c" if in_celsius else "target_kwh": target.value_kwh,
                "marginal_value_eur_per_k" if in_celsius else "marginal_value_eur_per_kwh": round(
                    float(value) / scale, 9
                ),
            }
        )
    return found


def _group(
    constraint: str, device: str | None, indices: IntArray, grid: TimeGrid, *, states: bool
) -> dict[str, Any]:
    """One binding constraint: how often it binds, and first and last moment."""
    shift = 1 if states else 0  # a state is the end of its step
    entry: dict[str, Any] = {"constraint": constraint}
    if device is not None:
        entry["device"] = device
    entry.update(
        {
            "count": int(indices.size),
            "first": grid.iso_at_boundary(int(indices[0]) + shift),
            "last": grid.iso_at_boundary(int(indices[-1]) + shift),
        }
    )
    return entry
