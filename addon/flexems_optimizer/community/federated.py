"""The federated loop in one process: every member plans itself with its signals, the host's
round (`coordinator.next_round`, the same code the HTTP host runs) answers, until it settles.

Members plan through a `Planner` (a process pool here, a Dask cluster for large communities):
the host side only ever sees each member's net profile and marginal values.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .coordinator import Reports, Round, first_round, next_round
from .signals import MemberSignals, report_of, with_signals
from .spec import Community

type Plan = dict[str, Any]
type Planner = Callable[[Sequence[Mapping[str, Any]]], list[Plan]]


@dataclass(frozen=True)
class Federated:
    uncoordinated: list[Plan]  # round 0: each home alone
    plans: list[Plan]  # the last round's: what the members would carry out
    signals: list[MemberSignals]  # what each member planned the last round with
    rounds: int  # rounds of signals after round 0
    converged: bool
    time_s: float  # the whole loop, round 0 included
    uncoordinated_s: float
    host_s: list[float] = field(default_factory=list)  # the host's own work, per round


def signals_for(state: Round, member: int) -> MemberSignals:
    return MemberSignals(
        price=state.price[member],
        consumption_kw=state.consumption_kw[member],
        production_kw=state.production_kw[member],
    )


def reports_of(plans: Sequence[Plan]) -> Reports:
    shared = [report_of(plan) for plan in plans]
    return Reports(
        net_kw=np.vstack([r.net_kw for r in shared]),
        consumption_value=np.vstack([r.consumption_value for r in shared]),
        production_value=np.vstack([r.production_value for r in shared]),
    )


def run_federated(community: Community, planner: Planner) -> Federated:
    started = time.perf_counter()
    members, grid = community.members, community.grid
    state = first_round(len(members), grid.n_steps)
    plans = planner([member.problem for member in members])
    uncoordinated, uncoordinated_s = plans, time.perf_counter() - started
    host_s: list[float] = []
    while True:
        reports = reports_of(plans)
        host_started = time.perf_counter()
        following = next_round(community.policy, community.capacity, state, reports)
        host_s.append(time.perf_counter() - host_started)
        if following.converged or following.number == state.number:
            state = following
            break
        state = following
        plans = planner(
            [
                with_signals(member.problem, grid, signals_for(state, i))
                for i, member in enumerate(members)
            ]
        )
    return Federated(
        uncoordinated=uncoordinated,
        plans=plans,
        signals=[signals_for(state, i) for i in range(len(members))],
        rounds=state.number,
        converged=state.converged,
        time_s=time.perf_counter() - started,
        uncoordinated_s=uncoordinated_s,
        host_s=host_s,
    )
