"""`flexems-optimizer community simulate FILE`: a community three ways, in figures.

- `uncoordinated`: each home plans alone (round 0 of the federated loop);
- `federated`: the loop the HTTP host runs, signals and all;
- `central`: one joint problem of every member's devices and the shared capacity.
Each reports peaks, energy over the shared capacity, the members' costs at their own tariffs
(signals steer, they are not money), rounds and wall time, and every member's net profile.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..problem.timegrid import FloatArray
from .central import plan_central
from .coordinator import SharedCapacity, over_capacity_kw
from .federated import Federated, Plan, Planner, run_federated
from .signals import plan_cost, report_of
from .spec import Community


def simulate(community: Community, planner: Planner) -> dict[str, Any]:
    names = [member.name for member in community.members]
    federated = run_federated(community, planner)
    started = time.perf_counter()
    central = plan_central(
        [(member.name, member.parsed) for member in community.members], community.capacity
    )
    central_s = time.perf_counter() - started
    step_hours = community.grid.step_hours
    outcome: dict[str, Any] = {
        "community": community.name,
        "members_count": len(names),
        "steps": community.grid.n_steps,
        "policy": community.policy.as_dict(),
        "uncoordinated": _figures(
            community.capacity, step_hours, names, _from_plans(federated.uncoordinated),
            rounds=0, time_s=federated.uncoordinated_s,
        ),
        "federated": _figures(
            community.capacity, step_hours, names, _from_plans(federated.plans),
            rounds=federated.rounds, time_s=federated.time_s,
        )
        | _federated_extras(federated),
        "central": _figures(
            community.capacity, step_hours, names,
            (
                [m.net_kw for m in central.members],
                [m.cost_eur for m in central.members],
                [m.breach_eur for m in central.members],
            ),
            rounds=1, time_s=central_s,
        )
        | {"proven_optimal": central.proven_optimal},
    }  # fmt: skip
    central_cost = outcome["central"]["cost_eur"]
    for key in ("uncoordinated", "federated"):
        cost = outcome[key]["cost_eur"]
        outcome[key]["gap_to_central_pct"] = round(
            100.0 * (cost - central_cost) / max(abs(central_cost), 1e-9), 6
        )
    return outcome


def _from_plans(plans: Sequence[Plan]) -> tuple[list[FloatArray], list[float], list[float]]:
    return (
        [report_of(plan).net_kw for plan in plans],
        [plan_cost(plan) for plan in plans],
        [float(plan["costs"]["breach_eur"]) for plan in plans],
    )


def _figures(
    capacity: SharedCapacity,
    step_hours: float,
    names: Sequence[str],
    outcome: tuple[Sequence[FloatArray], Sequence[float], Sequence[float]],
    *,
    rounds: int,
    time_s: float,
) -> dict[str, Any]:
    profiles, member_costs, breaches = outcome
    net = np.vstack(profiles)
    total = net.sum(axis=0)
    return {
        "peak_import_kw": round(float(max(total.max(), 0.0)), 6),
        "peak_export_kw": round(float(max(-total.min(), 0.0)), 6),
        "over_capacity_kwh": round(float(over_capacity_kw(capacity, net).sum()) * step_hours, 6),
        "cost_eur": round(float(sum(member_costs)), 6),
        # The members' own missed targets and comfort at their breach prices (not money).
        "breach_eur": round(float(sum(breaches)), 6),
        "rounds": rounds,
        "time_s": round(time_s, 6),
        "aggregate_kw": (np.round(total, 6) + 0.0).tolist(),
        "members": {
            name: {"cost_eur": round(cost, 6), "net_power_kw": (np.round(p, 6) + 0.0).tolist()}
            for name, cost, p in zip(names, member_costs, profiles, strict=True)
        },
    }


def _federated_extras(federated: Federated) -> dict[str, Any]:
    signal_eur = sum(plan.get("community", {}).get("signal_eur", 0.0) for plan in federated.plans)
    return {
        "converged": federated.converged,
        "signals_eur": round(float(signal_eur), 6),  # what the signals weighed; not paid
        "host_s_per_round_max": round(max(federated.host_s, default=0.0), 6),
        "host_s_total": round(sum(federated.host_s), 6),
    }
