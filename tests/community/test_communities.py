"""Whole communities in one process: the central optimum as the yardstick, the federated loop
against it, and `flexems-optimizer community simulate` as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flexems_optimizer import schedule
from flexems_optimizer.community.central import plan_central
from flexems_optimizer.community.coordinator import over_capacity_kw
from flexems_optimizer.community.engines import LocalPool
from flexems_optimizer.community.examples import community_home, sample_community
from flexems_optimizer.community.federated import run_federated
from flexems_optimizer.community.signals import plan_cost, report_of, with_signals
from flexems_optimizer.community.spec import parse_community

HOMES = 4


@pytest.fixture(scope="module")
def community() -> Any:
    return parse_community(sample_community(HOMES))


@pytest.fixture(scope="module")
def federated(community: Any) -> Any:
    with LocalPool(0) as planner:
        return run_federated(community, planner)


def total(plans: list[dict[str, Any]]) -> np.ndarray[Any, Any]:
    return np.vstack([report_of(plan).net_kw for plan in plans])


def test_the_homes_alone_break_the_shared_capacity(community: Any, federated: Any) -> None:
    over = over_capacity_kw(community.capacity, total(federated.uncoordinated))
    assert over.sum() * community.grid.step_hours > 5.0  # kWh


def test_the_federated_plans_hold_the_shared_capacity(community: Any, federated: Any) -> None:
    assert federated.converged
    assert 1 <= federated.rounds <= community.policy.max_rounds
    assert over_capacity_kw(community.capacity, total(federated.plans)).max() <= 1e-3


def test_the_central_optimum_holds_it_too_and_is_never_dearer(
    community: Any, federated: Any
) -> None:
    central = plan_central([(m.name, m.parsed) for m in community.members], community.capacity)
    assert central.proven_optimal
    net = np.vstack([member.net_kw for member in central.members])
    assert over_capacity_kw(community.capacity, net).max() <= 1e-6
    central_cost = sum(member.cost_eur for member in central.members)
    federated_cost = sum(plan_cost(plan) for plan in federated.plans)
    assert central_cost <= federated_cost + 1e-6
    # Close, too: the bench measures the gap at 10 to 1000 homes.
    assert federated_cost - central_cost < 0.05 * abs(central_cost) + 0.1


def test_each_members_plan_is_its_own_problem_with_its_signals(
    community: Any, federated: Any
) -> None:
    for member, plan, signals in zip(
        community.members, federated.plans, federated.signals, strict=True
    ):
        again = schedule(with_signals(member.problem, community.grid, signals))
        assert again["site"]["net_power_kw"] == pytest.approx(plan["site"]["net_power_kw"])


def test_without_a_binding_limit_the_central_optimum_is_the_sum_of_the_homes_own() -> None:
    body = sample_community(HOMES, seed=5)
    body["capacity"] = {"consumption": "1000 kW", "production": "1000 kW"}
    community = parse_community(body)
    central = plan_central([(m.name, m.parsed) for m in community.members], community.capacity)
    alone = sum(plan_cost(schedule(member.problem)) for member in community.members)
    assert sum(m.cost_eur for m in central.members) == pytest.approx(alone, abs=1e-6)


def run_simulate(tmp_path: Path, body: Any, *options: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "community.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    command = [sys.executable, "-m", "flexems_optimizer.cli", "community", "simulate", str(path)]
    return subprocess.run(
        [*command, *options], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("engine", ["process", "dask"])
def test_simulate_prints_the_three_ways_with_their_figures(tmp_path: Path, engine: str) -> None:
    done = run_simulate(tmp_path, sample_community(3), "--engine", engine, "--workers", "2")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    for way in ("uncoordinated", "federated", "central"):
        figures = outcome[way]
        for key in ("peak_import_kw", "peak_export_kw", "over_capacity_kwh", "cost_eur",
                    "rounds", "time_s"):  # fmt: skip
            assert isinstance(figures[key], int | float), (way, key)
        assert sorted(figures["members"]) == ["home-0001", "home-0002", "home-0003"]
        assert len(figures["members"]["home-0001"]["net_power_kw"]) == 96
    assert outcome["uncoordinated"]["over_capacity_kwh"] > 0
    assert outcome["federated"]["over_capacity_kwh"] <= 1e-3
    assert outcome["central"]["cost_eur"] <= outcome["federated"]["cost_eur"] + 1e-6


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (lambda b: b["members"][1]["problem"]["flex-context"].update({"site-power-capacity": "x"}),
         "invalid_quantity", "members[1].problem.flex-context.site-power-capacity"),
        (lambda b: b["members"][2]["problem"].update({"duration": "PT12H"}),
         "mismatched_grid", "members[2].problem"),
        (lambda b: b["members"][1].update({"name": "home-0001"}),
         "duplicate_name", "members[1].name"),
        (lambda b: b["capacity"].update({"consumption": "-5 kW"}),
         "negative_value", "capacity.consumption"),
        (lambda b: b.update({"policy": {"prices": "random"}}), "invalid_value", "policy.prices"),
    ],
)  # fmt: skip
def test_simulate_names_what_is_wrong_and_where(
    tmp_path: Path, change: Any, code: str, path: str
) -> None:
    body = sample_community(3)
    change(body)
    done = run_simulate(tmp_path, body)
    assert done.returncode == 2
    assert json.loads(done.stderr)["error"]["code"] == code
    assert json.loads(done.stderr)["error"]["path"] == path
    assert "Traceback" not in done.stderr


def test_a_home_with_nothing_flexible_still_takes_part() -> None:
    body = sample_community(3)
    body["members"].append({"name": "flat", "problem": {**community_home(99, 1),
                                                        "flex-model": []}})  # fmt: skip
    community = parse_community(body)
    with LocalPool(0) as planner:
        result = run_federated(community, planner)
    assert over_capacity_kw(community.capacity, total(result.plans)).max() <= 1e-3
