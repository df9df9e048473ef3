"""`schedule(problem) -> plan`: parse, compile, solve, explain. Pure: no I/O, no global state."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from .baseline import idle_devices as baseline_idle_devices
from .baseline import simulate as simulate_baseline
from .devices.storage import SocLimits
from .problem.model import SiteProblem
from .problem.parse import parse_problem
from .problem.timegrid import TimeGrid
from .solve.accounting import (
    Breach,
    costs,
    device_capacity_breaches,
    energy_cost,
    energy_cost_per_step,
    site_breaches,
    state_breaches,
)
from .solve.builder import IntArray
from .solve.choices import Choices, choices_of, hint, holding_first_step
from .solve.community import community_section, takes_part_in_community
from .solve.compile import (
    Binaries,
    CompiledProblem,
    Purpose,
    compile_problem,
    export_pays_more_steps,
    site_weights,
)
from .solve.diagnose import blocked_starts, reasons
from .solve.explain import explain
from .solve.highs import Solution, SolverSettings, SolveStatus, solve
from .solve.results import DeviceResult, SiteResult, read_solution, simultaneous_steps

# Binaries are added only at steps where an LP plan burns energy; a few rounds settle it.
MAX_BINARY_ROUNDS = 3
SOLVED = (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


class SolverError(RuntimeError):
    """HiGHS could not finish (time limit, numerical trouble): not an input error."""


def schedule(problem: Mapping[str, Any], settings: SolverSettings | None = None) -> dict[str, Any]:
    """The plan for a site problem (PROBLEM-FORMAT.md).

    Raises `ProblemError` on invalid input and `SolverError` when the solver gives up; a
    problem whose constraints cannot all be met returns an `infeasible` plan that says why.
    """
    return schedule_from(problem, settings)[0]


def schedule_from(
    problem: Mapping[str, Any],
    settings: SolverSettings | None = None,
    earlier: Choices | None = None,
    hold_first_step: bool = False,
) -> tuple[dict[str, Any], Choices | None]:
    """`schedule`, starting from the on/off choices of an `earlier` plan of the same site
    (solve/choices.py), and with `hold_first_step` keeping those of the first step (a plan of
    the same problem already carried out); also returns this plan's choices (None without
    any)."""
    settings = settings or SolverSettings()
    started = time.perf_counter()
    parsed = parse_problem(problem)
    timer = _Timer(started)
    compiled, solution = _solve_plan(parsed, settings, timer, earlier, hold_first_step)
    if solution.status is SolveStatus.INFEASIBLE:
        return _infeasible_plan(parsed, settings, timer), None
    if solution.status not in SOLVED:
        raise SolverError(_failure_message(solution.status, settings))
    result = read_solution(compiled, solution.x)
    limits = {block.storage.name: block.limits for block in compiled.devices}
    baseline = _baseline_energy(parsed, settings, timer)
    breaches = _breaches(parsed, limits, result, include_hard=False)
    plan = _plan_body(parsed, result, "relaxed" if breaches else "optimal")
    plan["notes"] += blocked_starts(parsed, breaches)
    plan["costs"] = costs(parsed, limits, result, baseline)
    plan["breaches"] = [_breach_dict(b, parsed) for b in breaches]
    plan["explanation"] = explain(compiled, solution, parsed.grid)
    if takes_part_in_community(parsed.flex_context):
        plan["community"] = community_section(parsed, compiled, solution, result)
    plan["solver"] = timer.report(solution)
    choices = None
    if compiled.lp.integer_columns.size:
        choices = choices_of(compiled.lp, solution.x, parsed.grid)
    return plan, choices


class _Timer:
    """Splits wall time into build (parse, compile, read back) and HiGHS time."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.solve_s = 0.0
        self.solves = 0
        self.binaries = 0

    def left(self, settings: SolverSettings) -> SolverSettings:
        """The settings for the next solve: what is left of the plan's time limit, which
        bounds the whole plan, not each of its solves."""
        elapsed = time.perf_counter() - self.started
        return replace(settings, time_limit_s=max(settings.time_limit_s - elapsed, 1e-3))

    def solved(self, solution: Solution, compiled: CompiledProblem) -> Solution:
        self.solve_s += solution.solve_s
        self.solves += 1
        self.binaries = max(self.binaries, int(compiled.lp.integer_columns.size))
        return solution

    def report(self, final: Solution) -> dict[str, Any]:
        total = time.perf_counter() - self.started
        return {
            "name": "highs",
            "problem_class": "milp" if final.is_mip else "lp",
            "binaries": self.binaries,
            "solves": self.solves,
            "build_s": round(total - self.solve_s, 6),
            "solve_s": round(self.solve_s, 6),
            "total_s": round(total, 6),
            "mip_gap": 0.0 if not final.is_mip else round(final.mip_gap, 9),
            # False when the time limit ended the search: the best plan found, within mip_gap.
            "proven_optimal": final.status is SolveStatus.OPTIMAL,
            "started_from": final.started_from or None,
        }


def _solve_plan(
    parsed: SiteProblem,
    settings: SolverSettings,
    timer: _Timer,
    earlier: Choices | None = None,
    hold_first_step: bool = False,
) -> tuple[CompiledProblem, Solution]:
    """Solve as an LP; where a lossy device charges and discharges at once, add binaries there."""
    site_binaries = export_pays_more_steps(site_weights(parsed))
    device_binaries: dict[str, IntArray] = {}
    for round_number in range(MAX_BINARY_ROUNDS + 1):
        compiled = compile_problem(parsed, Purpose.PLAN, Binaries(device_binaries, site_binaries))
        start = None if earlier is None else hint(compiled.lp, earlier, parsed.grid)
        model = compiled.lp
        if start is not None and hold_first_step:
            model = holding_first_step(model, start)
        solution = timer.solved(
            solve(model, timer.left(settings), round_integers=compiled.round_integers,
                  start=start),
            compiled,
        )  # fmt: skip
        if solution.status is not SolveStatus.OPTIMAL:
            return compiled, solution  # infeasible, failed, or out of time: no second round
        burning = simultaneous_steps(read_solution(compiled, solution.x))
        if not burning:
            return compiled, solution
        n = parsed.grid.n_steps
        for name, steps in burning.items():
            known = device_binaries.get(name, np.empty(0, dtype=np.int64))
            # Last round: every step, so the answer is exact whatever the LP does.
            new = np.arange(n) if round_number == MAX_BINARY_ROUNDS - 1 else steps
            device_binaries[name] = np.union1d(known, new).astype(np.int64)
    return compiled, solution


def _failure_message(status: SolveStatus, settings: SolverSettings) -> str:
    if status is SolveStatus.TIME_LIMIT:
        return f"the solver reached its time limit of {settings.time_limit_s:g} s"
    return f"the solver stopped with status {status.value}"


def _breaches(
    parsed: SiteProblem, limits: dict[str, SocLimits], result: SiteResult, *, include_hard: bool
) -> list[Breach]:
    context = parsed.flex_context
    found = site_breaches(context.site_consumption, result.import_kw, "consumption", include_hard)
    found += site_breaches(context.site_production, result.export_kw, "production", include_hard)
    for device in result.devices:
        if device.state is not None:
            found += state_breaches(
                device.name, limits[device.name], device.state, device.state_unit
            )
    return found + device_capacity_breaches(parsed, result)


def _breach_dict(breach: Breach, parsed: SiteProblem) -> dict[str, Any]:
    is_state = breach.is_state
    entry: dict[str, Any] = {"constraint": breach.constraint}
    if breach.device is not None:
        entry["device"] = breach.device
    entry.update(
        {
            "at": parsed.grid.iso_at_boundary(breach.state_or_step + (1 if is_state else 0)),
            "amount": round(breach.amount, 9),
            "unit": breach.unit,
            "limit": round(breach.limit, 9),
            "value": round(breach.value, 9),
        }
    )
    return entry


def _plan_body(parsed: SiteProblem, result: SiteResult, status: str) -> dict[str, Any]:
    grid = parsed.grid
    return {
        "status": status,
        "start": grid.iso_at_boundary(0),
        "end": grid.iso_at_boundary(grid.n_steps),
        "resolution": _iso_duration(grid.step.total_seconds()),
        "objective": parsed.objective.value,
        "timestamps": grid.timestamps_iso(),
        "devices": {device.name: _device_body(device, grid) for device in result.devices},
        "site": {
            "net_power_kw": _rounded(result.net_kw),
            "import_kw": _rounded(result.import_kw),
            "export_kw": _rounded(result.export_kw),
            "energy_cost_eur": _rounded(
                energy_cost_per_step(parsed, result.net_kw, result.devices)
            ),
        },
        "notes": list(parsed.notes),
    }


def _device_body(device: DeviceResult, grid: TimeGrid) -> dict[str, Any]:
    """What the plan says of one device, by kind."""
    body: dict[str, Any] = {"type": device.kind}
    if device.kind != "heat-storage":
        body["power_kw"] = _rounded(device.power_kw)
    if device.state is not None:
        key = {"K": "temperature_c", "fill level": "fill_level"}.get(device.state_unit, "soc_kwh")
        body[key] = _rounded(device.state)
    if device.kind == "s2-frbc":
        body["fill_level_label"] = device.facts["fill_level_label"]
        body["actuators"] = device.facts["actuators"]
    if device.kind == "s2-pebc":
        body.update(device.facts)
    for key, values in device.series.items():
        body[key] = _rounded(values)
    if "start_step" in device.facts:
        body["start"] = grid.iso_at_boundary(device.facts["start_step"])
    if "steps" in device.facts:
        body["run_steps"] = [grid.iso_at_boundary(step) for step in device.facts["steps"]]
    return body


def _infeasible_plan(
    parsed: SiteProblem, settings: SolverSettings, timer: _Timer
) -> dict[str, Any]:
    """Name what cannot be met, and offer the closest plan that breaches as little as possible."""
    compiled = compile_problem(
        parsed, Purpose.DIAGNOSE, Binaries(site=export_pays_more_steps(site_weights(parsed)))
    )
    solution = timer.solved(
        solve(
            compiled.lp, timer.left(settings), duals=False, round_integers=compiled.round_integers
        ),
        compiled,
    )
    if solution.status not in SOLVED:
        raise SolverError(_failure_message(solution.status, settings))
    result = read_solution(compiled, solution.x)
    limits = {block.storage.name: block.limits for block in compiled.devices}
    breaches = _breaches(parsed, limits, result, include_hard=True)
    found = reasons(breaches, parsed.grid)
    plan = _plan_body(parsed, result, "infeasible")
    messages = [reason["message"] for reason in found] + blocked_starts(parsed, breaches)
    plan["message"] = "; ".join(messages) or "no plan meets every constraint"
    plan["infeasible"] = found
    plan["fallback"] = "relaxed"  # the series are the least-breaching plan
    plan["costs"] = costs(parsed, limits, result, None)
    plan["breaches"] = [_breach_dict(b, parsed) for b in breaches]
    plan["explanation"] = {"binding": [], "soc_targets": [], "site_capacity": {}}
    plan["solver"] = timer.report(solution)
    return plan


def _baseline_energy(parsed: SiteProblem, settings: SolverSettings, timer: _Timer) -> float | None:
    """Energy cost without flexibility (baseline.py): simulated where the rule alone gives it,
    else the same rule as an LP."""
    simulated = simulate_baseline(parsed)
    if simulated is not None:
        return energy_cost(parsed, simulated.net_kw, simulated.devices)
    return lp_baseline_energy(parsed, timer.left(settings), timer)


def lp_baseline_energy(
    parsed: SiteProblem, settings: SolverSettings, timer: _Timer | None = None
) -> float | None:
    """The baseline's energy cost solved as an LP (None when that fails)."""
    compiled = compile_problem(
        parsed, Purpose.BASELINE, Binaries(), idle_devices=baseline_idle_devices(parsed)
    )
    solution = solve(compiled.lp, settings, duals=False)
    if timer is not None:
        timer.solved(solution, compiled)
    if solution.status not in SOLVED:
        return None
    result = read_solution(compiled, solution.x)
    return energy_cost(parsed, result.net_kw, result.devices)


def _rounded(values: np.ndarray[Any, np.dtype[np.float64]]) -> list[float]:
    """Micro-kW/kWh precision; + 0.0 turns -0.0 into 0.0."""
    rounded: list[float] = (np.round(values, 6) + 0.0).tolist()
    return rounded


def _iso_duration(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")
