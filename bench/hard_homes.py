"""Hard homes: seeded MILPs as homes pose them (an on/off heat pump with minimum run and pause
times, a battery, an EV charger with a minimum power, two appliances, PV, a peak price), at 96,
192 and 672 quarter-hour steps. Per size: the median and worst time to prove a 0.1 % gap (within
a time limit), and the gap reached after 1 s.

Run: `.venv/bin/python bench/hard_homes.py [--homes 20] [--limit 20]` (homes spread over the
three sizes). Targets (issue 14): 192 steps worst < 0.5 s, 672 steps worst < 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from flexems_optimizer import schedule
from flexems_optimizer.samples import coupled_site
from flexems_optimizer.solve.highs import SolverSettings


def hard_home(steps: int, seed: int) -> dict[str, Any]:
    """The coupled sample home made hard: run rules on the on/off building heat pump and a
    minimum charging power on the EV."""
    body = coupled_site(steps, seed=seed, on_off=True)
    for device in body["flex-model"]:
        if device.get("type") == "heat-pump" and "min-power" in device:
            device["min-run-time"] = "PT1H"
            device["min-off-time"] = "PT30M"
        if device["name"] == "ev":
            device["min-power"] = "4.1 kW"
    return body


def solve(body: dict[str, Any], limit_s: float) -> tuple[float, bool, float]:
    """(seconds, proven within 0.1 %, gap reached)."""
    started = time.perf_counter()
    plan = schedule(body, SolverSettings(time_limit_s=limit_s, mip_rel_gap=1e-3))
    solver = plan["solver"]
    return time.perf_counter() - started, bool(solver["proven_optimal"]), solver["mip_gap"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=20)
    parser.add_argument("--limit", type=float, default=20.0, help="time limit per proof (s)")
    args = parser.parse_args()
    sizes = (96, 192, 672)
    per_size = [args.homes // 3 + (i < args.homes % 3) for i in range(3)]
    print(f"{'steps':>6} {'homes':>6} {'median s':>9} {'worst s':>8} {'proven':>7} "
          f"{'worst gap @1 s':>15}")  # fmt: skip
    for steps, count in zip(sizes, per_size, strict=True):
        times, proven, gaps = [], 0, []
        for seed in range(count):
            body = hard_home(steps, seed)
            seconds, ok, _ = solve(body, args.limit)
            times.append(seconds)
            proven += ok
            gaps.append(solve(body, 1.0)[2])
        print(f"{steps:6d} {count:6d} {statistics.median(times):9.2f} {max(times):8.2f} "
              f"{proven:4d}/{count:<2d} {max(gaps) * 100:14.2f}%")  # fmt: skip


if __name__ == "__main__":
    main()
