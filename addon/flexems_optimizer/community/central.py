"""The central optimum: every member's devices, connection and tariff plus the shared capacity
in one problem. The yardstick for the federated loop, and a mode for a community that trusts
one host with its members' devices.

Each member's blocks are the same as in its own plan (`add_site` into one builder); the shared
limit is one row per step over the members' grid flows, soft at a high price so a community
that cannot hold it still gets the plan that breaches it least.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..problem.model import SiteProblem
from ..problem.timegrid import FloatArray
from ..scheduler import MAX_BINARY_ROUNDS, SolverError
from ..solve.accounting import breach_cost, energy_cost, peak_cost, start_cost
from ..solve.builder import IntArray, ModelBuilder
from ..solve.compile import (
    Binaries,
    CompiledProblem,
    Purpose,
    add_site,
    export_pays_more_steps,
    reference_step_cost,
    site_weights,
    with_tie_break,
)
from ..solve.highs import Solution, SolverSettings, SolveStatus, solve
from ..solve.results import SiteResult, read_solution, simultaneous_steps
from .coordinator import SharedCapacity

SHARED_BREACH_PRICE_PER_KW = 10_000.0  # per kW and hour over the shared limit


@dataclass(frozen=True)
class MemberPlan:
    name: str
    net_kw: FloatArray
    cost_eur: float  # energy, peak and start costs at the member's own tariffs
    breach_eur: float  # what its own soft constraints' breaches cost (missed targets, comfort)


@dataclass(frozen=True)
class CentralPlan:
    members: tuple[MemberPlan, ...]
    solve_s: float
    proven_optimal: bool


def member_cost(problem: SiteProblem, result: SiteResult) -> float:
    """What a member pays for its plan: energy, peaks and starts (breach prices and community
    signals steer plans but are not money)."""
    return (
        energy_cost(problem, result.net_kw, result.devices)
        + peak_cost(problem.flex_context, result)
        + start_cost(problem, result)
    )


def plan_central(
    members: Sequence[tuple[str, SiteProblem]],
    capacity: SharedCapacity,
    settings: SolverSettings | None = None,
) -> CentralPlan:
    """Solve the joint problem; lossy storages that charge and discharge at once get binaries
    there, as in a member's own plan."""
    # Presolve pays on a joint problem of many homes; the yardstick gets ten minutes.
    settings = settings or SolverSettings(time_limit_s=600.0, lp_presolve=True)
    problems = [problem for _, problem in members]
    device_binaries: list[dict[str, IntArray]] = [{} for _ in problems]
    solve_s = 0.0
    for round_number in range(MAX_BINARY_ROUNDS + 1):
        sites, solution = _solve_joint(problems, capacity, device_binaries, settings)
        solve_s += solution.solve_s
        if solution.status not in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
            raise SolverError(f"the community's joint problem ended {solution.status.value}")
        results = [read_solution(site, solution.x) for site in sites]
        burning = [simultaneous_steps(result) for result in results]
        if solution.status is not SolveStatus.OPTIMAL or not any(burning):
            break
        for known, found, problem in zip(device_binaries, burning, problems, strict=True):
            for name, steps in found.items():
                last = round_number == MAX_BINARY_ROUNDS - 1
                new = np.arange(problem.grid.n_steps) if last else steps
                known[name] = np.union1d(known.get(name, new), new).astype(np.int64)
    plans = tuple(
        MemberPlan(
            name, result.net_kw, member_cost(problem, result),
            breach_cost(problem, {b.storage.name: b.limits for b in site.devices}, result),
        )
        for (name, problem), site, result in zip(members, sites, results, strict=True)
    )  # fmt: skip
    return CentralPlan(plans, solve_s, solution.status is SolveStatus.OPTIMAL)


def _solve_joint(
    problems: Sequence[SiteProblem],
    capacity: SharedCapacity,
    device_binaries: Sequence[dict[str, IntArray]],
    settings: SolverSettings,
) -> tuple[list[CompiledProblem], Solution]:
    builder = ModelBuilder()
    sites = [
        add_site(
            builder,
            problem,
            Purpose.PLAN,
            Binaries(binaries, export_pays_more_steps(site_weights(problem))),
        )
        for problem, binaries in zip(problems, device_binaries, strict=True)
    ]
    dt = problems[0].grid.step_hours
    for sign, limit in ((1.0, capacity.consumption_kw), (-1.0, capacity.production_kw)):
        steps = np.flatnonzero(np.isfinite(limit))
        if not steps.size:
            continue
        # sign·Σ (import − export) ≤ limit + breach
        breach = builder.columns(steps.size, cost=SHARED_BREACH_PRICE_PER_KW * dt)
        rows = builder.rows(steps.size, upper=limit[steps])
        for site in sites:
            builder.coefficients(rows, site.site.imports[steps], sign)
            builder.coefficients(rows, site.site.exports[steps], -sign)
        builder.coefficients(rows, breach, -1.0)
    references = [reference_step_cost(p, site_weights(p)) for p in problems]
    scale = 1.0 / float(np.median(references))
    lp = with_tie_break(builder.build(cost_scale=scale))
    sites = [replace(site, lp=lp, objective_scale=scale) for site in sites]

    def round_integers(x: FloatArray) -> FloatArray:
        y = x.copy()
        for site in sites:
            site.round_into(x, y)
        rounded: FloatArray = y[lp.integer_columns]
        return rounded

    return sites, solve(lp, settings, duals=False, round_integers=round_integers)
