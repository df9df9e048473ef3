"""Compile a site problem into one LinearProgram: the site block plus one block per device."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from ..devices.storage import StorageBlock, Strictness, build_storage
from ..problem.model import Objective, SiteProblem
from ..problem.timegrid import FloatArray
from .builder import IntArray, LinearProgram, ModelBuilder
from .site import SiteBlock, SiteWeights, build_site

# The tie-break toward charging sooner, relative to the cost of 1 kW for one step: small enough
# never to outweigh a real cost difference, large enough to stay above solver tolerances.
TIE_BREAK = 1e-6
NO_STEPS: IntArray = np.empty(0, dtype=np.int64)


class Purpose(Enum):
    PLAN = "plan"  # the optimal plan
    DIAGNOSE = "diagnose"  # everything soft, to find what cannot be met
    BASELINE = "baseline"  # no flexibility used: only what the constraints demand, ASAP


@dataclass(frozen=True)
class Binaries:
    """Steps that get a binary: per device name, and for the site's import/export."""

    devices: Mapping[str, IntArray] = field(default_factory=dict)
    site: IntArray = field(default_factory=lambda: NO_STEPS)


@dataclass(frozen=True)
class CompiledProblem:
    lp: LinearProgram
    objective_scale: float  # objective in solver units = EUR × objective_scale
    site: SiteBlock
    devices: tuple[StorageBlock, ...]
    weights: SiteWeights


def site_weights(problem: SiteProblem) -> SiteWeights:
    context = problem.flex_context
    n = problem.grid.n_steps
    if problem.objective is Objective.CO2:
        assert context.co2_intensity_kg_per_kwh is not None
        return SiteWeights(context.co2_intensity_kg_per_kwh, context.co2_intensity_kg_per_kwh)
    if problem.objective is Objective.SELF_CONSUMPTION:
        return SiteWeights(np.ones(n), np.zeros(n))
    return SiteWeights(context.consumption_price, context.production_price)


def reference_step_cost(problem: SiteProblem, weights: SiteWeights) -> float:
    """The typical cost of 1 kW for one step: the unit the objective is scaled to."""
    magnitudes = np.abs(np.concatenate((weights.import_per_kwh, weights.export_per_kwh)))
    magnitudes = magnitudes[magnitudes > 0]
    per_kwh = float(np.median(magnitudes)) if magnitudes.size else 1.0
    return per_kwh * problem.grid.step_hours


def export_pays_more_steps(weights: SiteWeights) -> IntArray:
    """Steps where exporting earns more than importing costs: import/export need a binary."""
    return np.flatnonzero(weights.export_per_kwh > weights.import_per_kwh + 1e-12).astype(np.int64)


def compile_problem(
    problem: SiteProblem,
    purpose: Purpose,
    binaries: Binaries,
    *,
    idle_devices: frozenset[str] = frozenset(),
) -> CompiledProblem:
    grid = problem.grid
    n = grid.n_steps
    weights = site_weights(problem)
    reference = reference_step_cost(problem, weights)
    builder = ModelBuilder()
    ramp = np.arange(1, n + 1, dtype=np.float64) / n
    devices: list[StorageBlock] = []
    for storage in problem.devices:
        if purpose is Purpose.BASELINE:
            # Least throughput, earliest first: the device does only what it must, ASAP.
            charge_cost: FloatArray = reference * (1.0 + ramp)
            discharge_cost: FloatArray = reference * (1.0 + ramp)
        else:
            charge_cost = (
                TIE_BREAK * reference * ramp if storage.prefer_charging_sooner else np.zeros(n)
            )
            discharge_cost = np.zeros(n)
        devices.append(
            build_storage(
                builder,
                storage,
                problem.flex_context,
                grid,
                strictness=Strictness.ALL_SOFT
                if purpose is Purpose.DIAGNOSE
                else Strictness.AS_GIVEN,
                charge_cost=charge_cost,
                discharge_cost=discharge_cost,
                binary_steps=binaries.devices.get(storage.name, NO_STEPS),
                idle=storage.name in idle_devices,
            )
        )
    power_terms = [term for block in devices for term in block.power_terms()]
    device_consumption = sum(
        (d.consumption_capacity_kw for d in problem.devices), start=np.zeros(n)
    )
    device_production = sum((d.production_capacity_kw for d in problem.devices), start=np.zeros(n))
    site_objective = (
        SiteWeights(np.zeros(n), np.zeros(n)) if purpose is Purpose.BASELINE else weights
    )
    site = build_site(
        builder,
        problem.flex_context,
        grid,
        power_terms,
        site_objective,
        device_consumption_kw=device_consumption,
        device_production_kw=device_production,
        soften_hard_limits=purpose is Purpose.DIAGNOSE,
        price_peaks=purpose is not Purpose.BASELINE,
        binary_steps=binaries.site if purpose is not Purpose.BASELINE else NO_STEPS,
    )
    scale = 1.0 / reference
    lp = builder.build(cost_scale=scale)
    return CompiledProblem(
        lp=lp, objective_scale=scale, site=site, devices=tuple(devices), weights=weights
    )
