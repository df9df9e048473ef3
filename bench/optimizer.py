"""Optimizer speed: build and solve times for a home battery with PV, load and day-ahead prices.

Prints, per problem size, the median of repeated runs: parse, compile, HiGHS solve and the whole
`schedule()` call, and a naive scipy `linprog(method="highs")` formulation of the same problem
as a reference. Run: `make bench` (or `.venv/bin/python bench/optimizer.py`).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from flexems_optimizer import schedule
from flexems_optimizer.problem.parse import parse_problem
from flexems_optimizer.scheduler import _solve_plan, _Timer
from flexems_optimizer.solve.compile import Binaries, Purpose, compile_problem
from flexems_optimizer.solve.highs import SolverSettings

SIZES = {  # name: (steps, resolution in minutes, repeats)
    "day, 15 min": (96, 15, 200),
    "week, 15 min": (672, 15, 30),
    "week, 5 min": (2016, 5, 10),
    "year, 1 h": (8760, 60, 3),
}
START = "2026-01-05T00:00:00+01:00"


def home_battery_problem(steps: int, minutes: int, seed: int = 7) -> dict[str, Any]:
    """A seeded, realistic home: day-ahead prices, PV, household load and a 10 kWh battery."""
    rng = np.random.default_rng(seed)
    hours = np.arange(steps) * minutes / 60.0
    hour_of_day = hours % 24
    day = hours // 24
    # Day-ahead prices (EUR/MWh): morning and evening peaks, a solar dip, day-to-day swings.
    price = (
        90
        + 45 * np.exp(-((hour_of_day - 8) ** 2) / 4)
        + 70 * np.exp(-((hour_of_day - 19) ** 2) / 5)
        - 40 * np.exp(-((hour_of_day - 13) ** 2) / 6)
        + 20 * np.sin(day * 0.9)
        + rng.normal(0, 8, steps)
    )
    seasonal = 0.6 + 0.4 * np.sin(2 * math.pi * (day - 80) / 365)
    pv = np.clip(6.0 * seasonal * np.sin(math.pi * (hour_of_day - 6) / 14), 0, None)
    pv *= rng.uniform(0.3, 1.0, steps)
    load = 0.35 + 0.6 * np.exp(-((hour_of_day - 19) ** 2) / 6) + rng.gamma(1.2, 0.15, steps)
    series = {"start": START, "resolution": f"PT{minutes}M"}
    return {
        "start": START,
        "duration": f"PT{steps * minutes}M",
        "resolution": f"PT{minutes}M",
        "flex-context": {
            "consumption-price": {
                **series, "values": np.round(price + 120, 2).tolist(), "unit": "EUR/MWh",
            },
            "production-price": {
                **series, "values": np.round(price * 0.9, 2).tolist(), "unit": "EUR/MWh",
            },
            "site-power-capacity": "17 kW",
            "inflexible-consumption": {**series, "values": np.round(load, 3).tolist()},
            "inflexible-production": {**series, "values": np.round(pv, 3).tolist()},
        },
        "flex-model": [
            {
                "name": "battery", "type": "storage", "soc-at-start": "5 kWh", "soc-min": "1 kWh",
                "soc-max": "10 kWh", "power-capacity": "5 kW", "roundtrip-efficiency": "90%",
                "storage-efficiency": "99.99%",
            }
        ],
    }  # fmt: skip


def naive_linprog(body: dict[str, Any]) -> tuple[float, float, float]:
    """The same LP built the obvious way (row by row into a sparse matrix), solved by linprog."""
    started = time.perf_counter()
    parsed = parse_problem(body)
    ctx, battery = parsed.flex_context, parsed.devices[0]
    n, dt = parsed.grid.n_steps, parsed.grid.step_hours
    eta_c, eta_d = battery.charging_efficiency, battery.discharging_efficiency
    eps = battery.storage_efficiency_per_step
    b = (eps - 1) / math.log(eps) if eps < 1 else 1.0
    # Columns per step: charge, discharge, soc, import, export.
    c = np.zeros(5 * n)
    bounds = []
    a_eq = lil_matrix((2 * n, 5 * n))
    b_eq = np.zeros(2 * n)
    for t in range(n):
        ch, dis, soc, imp, exp = (5 * t + k for k in range(5))
        c[imp] = ctx.consumption_price[t] * dt
        c[exp] = -ctx.production_price[t] * dt
        bounds += [
            (0, battery.consumption_capacity_kw[t]),
            (0, battery.production_capacity_kw[t]),
            (battery.soc_min_kwh, battery.soc_max_kwh),
            (0, 17),
            (0, 17),
        ]
        a_eq[2 * t, soc] = 1
        a_eq[2 * t, ch] = -b * dt * eta_c
        a_eq[2 * t, dis] = b * dt / eta_d
        if t == 0:
            b_eq[0] = eps * battery.soc_at_start_kwh
        else:
            a_eq[2 * t, soc - 5] = -eps
        a_eq[2 * t + 1, imp] = 1
        a_eq[2 * t + 1, exp] = -1
        a_eq[2 * t + 1, ch] = -1
        a_eq[2 * t + 1, dis] = 1
        b_eq[2 * t + 1] = ctx.inflexible_consumption_kw[t] - ctx.inflexible_production_kw[t]
    built = time.perf_counter()
    result = linprog(c, A_eq=a_eq.tocsr(), b_eq=b_eq, bounds=bounds, method="highs")
    assert result.status == 0, result.message
    done = time.perf_counter()
    return built - started, done - built, float(result.fun)


def median_s(run: Callable[[], float | None], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    settings = SolverSettings()
    print(f"{'problem':<14}{'steps':>6} {'parse':>8} {'compile':>8} {'HiGHS':>8} "
          f"{'total':>8} | {'naive build':>11} {'linprog':>8}  {'same optimum':>12}")  # fmt: skip
    for name, (steps, minutes, full_repeats) in SIZES.items():
        repeats = max(1, full_repeats // 5) if args.quick else full_repeats
        body = home_battery_problem(steps, minutes)
        schedule(body)  # warm up
        parse_s = median_s(lambda body=body: parse_problem(body) and None, repeats)
        parsed = parse_problem(body)
        compile_s = median_s(
            lambda parsed=parsed: compile_problem(parsed, Purpose.PLAN, Binaries()) and None,
            repeats,
        )
        solve_samples = []
        for _ in range(repeats):
            timer = _Timer(time.perf_counter())
            _solve_plan(parsed, settings, timer)
            solve_samples.append(timer.solve_s)
        solve_s = statistics.median(solve_samples)
        total_s = median_s(lambda body=body: schedule(body) and None, repeats)
        plan = schedule(body)
        naive = [naive_linprog(body) for _ in range(max(1, min(repeats, 5)))]
        naive_build = statistics.median(r[0] for r in naive)
        naive_solve = statistics.median(r[1] for r in naive)
        # The naive LP has hard site limits and no tie-break; the optimum must agree.
        same = math.isclose(plan["costs"]["total_eur"], naive[0][2], rel_tol=1e-6, abs_tol=1e-6)
        print(
            f"{name:<14}{steps:>6} {parse_s * 1e3:>6.2f}ms {compile_s * 1e3:>6.2f}ms "
            f"{solve_s * 1e3:>6.2f}ms {total_s * 1e3:>6.2f}ms | {naive_build * 1e3:>9.1f}ms "
            f"{naive_solve * 1e3:>6.1f}ms  {'yes' if same else 'NO':>12}"
        )


if __name__ == "__main__":
    main()
