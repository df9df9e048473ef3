"""Community coordination: how close the federated loop comes to the central optimum, at what
cost in rounds and time, with the shared capacity held.

Seeded communities (`community/examples.py`: every home sees the same day-ahead prices, and has
its own mix of battery, EV with an evening arrival, heat pump and PV) at 96 quarter hours, with
a shared capacity (1.6 kW per home) that the homes break when each plans alone. Per policy:
the community's peak, energy over the shared capacity, the members' cost at their own tariffs,
its gap to the central optimum, rounds, wall time and the host's own work per round.
Run: `make bench` (10 and 100 homes), `--homes 1000 --engine dask` for the large one.
"""

from __future__ import annotations

import argparse
from contextlib import AbstractContextManager
from typing import Any

from flexems_optimizer.community.engines import DaskPool, LocalPool
from flexems_optimizer.community.examples import sample_community
from flexems_optimizer.community.policy import DEFAULT_POLICY, PRESETS
from flexems_optimizer.community.simulate import simulate
from flexems_optimizer.community.spec import parse_community

GOALS = "goals at 100 homes: gap <= 1 %, over 0, peak <= 1.05 x central, <= 20 rounds, host < 20 ms/round, central < 3 s"  # noqa: E501


def run(homes: int, policies: list[str], engine: str, scheduler: str | None) -> None:
    print(f"\n{homes} homes, 96 steps, shared capacity {homes * 1.6:g} kW ({engine})")
    print(
        f"{'policy':<18} {'peak kW':>8} {'over kWh':>9} {'cost EUR':>9} {'gap %':>7} "
        f"{'gap EUR':>8} {'rounds':>6} {'time s':>7} {'host ms':>8}"
    )
    pool: AbstractContextManager[Any]
    pool = DaskPool(scheduler) if engine == "dask" else LocalPool()
    with pool as planner:
        first = True
        for name in policies:
            outcome = simulate(parse_community(sample_community(homes, policy=name)), planner)
            if first:
                for way in ("uncoordinated", "central"):
                    _line(way, outcome[way], outcome["central"])
                first = False
            _line(name, outcome["federated"], outcome["central"])


def _line(label: str, figures: dict[str, Any], central: dict[str, Any]) -> None:
    host = figures.get("host_s_per_round_max")
    flags = []
    if figures.get("converged") is False:
        flags.append("not converged")
    if figures["over_capacity_kwh"] > 1e-3:
        flags.append("limit broken")
    print(
        f"{label:<18} {figures['peak_import_kw']:8.1f} {figures['over_capacity_kwh']:9.2f} "
        f"{figures['cost_eur']:9.2f} {figures.get('gap_to_central_pct', 0.0):7.2f} "
        f"{figures['cost_eur'] - central['cost_eur']:8.2f} {figures['rounds']:6d} "
        f"{figures['time_s']:7.2f} "
        + (f"{host * 1e3:8.2f}" if host is not None else f"{'':8}")
        + ("  " + ", ".join(flags) if flags else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--homes", type=int, nargs="*", default=[10, 100])
    parser.add_argument("--policies", nargs="*", default=list(PRESETS))
    parser.add_argument("--engine", choices=("process", "dask"), default="process")
    parser.add_argument("--scheduler", help="a Dask scheduler's address")
    args = parser.parse_args()
    print(GOALS + f"; default policy: {DEFAULT_POLICY}")
    for homes in args.homes:
        run(homes, args.policies, args.engine, args.scheduler)


if __name__ == "__main__":
    main()
