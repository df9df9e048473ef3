"""One host and four member add-ons, each a real service on its own loopback port with its own
rolling site (a battery, an EV, both, or a heat pump): joining with invites, rounds, and the
shared capacity held by the plans the members' sites end up with."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_socket

from flexems_optimizer import schedule
from flexems_optimizer.sites.planner import with_community_signals
from flexems_optimizer.sites.rolling import problem_at
from tests.api.server import STEP_S, Server, clear_of_a_step_boundary

from .members import membership_when

STEPS = 24  # the community's window: 6 hours
CAPACITY_KW = 10.0


def series(values: list[float], unit: str, start: float) -> dict[str, Any]:
    return {"start": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
            "resolution": "PT15M", "values": values, "unit": unit}  # fmt: skip


def home(kind: str, start: float) -> dict[str, Any]:
    """A rolling site (no `start`): 6 hours ahead, cheap from the second hour to the fourth,
    its series 12 hours long so the window may move during the test."""
    n = 2 * STEPS
    price = [0.10 if 4 <= i % STEPS < 16 else 0.35 for i in range(n)]
    devices = {
        "battery": [{"name": "battery", "soc-at-start": "1 kWh", "soc-max": "10 kWh",
                     "power-capacity": "5 kW",
                     "soc-minima": [{"start": _iso(start + 5 * 3600), "duration": "PT7H",
                                     "value": "7 kWh"}]}],
        "ev": [{"name": "ev", "soc-at-start": "10 kWh", "soc-max": "60 kWh",
                "consumption-capacity": "11 kW", "production-capacity": "0 kW",
                "soc-minima": [{"start": _iso(start + 5 * 3600), "duration": "PT7H",
                                "value": "20 kWh"}]}],
        "heat": [{"name": "tank", "type": "heat-storage", "soc-at-start": "4 kWh",
                  "soc-min": "2 kWh", "soc-max": "14 kWh", "soc-usage": "0.5 kW"},
                 {"name": "hp", "type": "heat-pump", "heats": "tank", "power-capacity": "3 kW",
                  "cop": 3}],
    }  # fmt: skip
    chosen = devices["battery"] + devices["ev"] if kind == "both" else devices[kind]
    return {
        "duration": "PT6H",
        "resolution": "PT15M",
        "flex-context": {
            "consumption-price": series(price, "EUR/kWh", start),
            "production-price": "0 EUR/kWh",
            "inflexible-consumption": series([0.4] * n, "kW", start),
        },
        "flex-model": chosen,
    }


def _iso(at: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    pytest_socket.enable_socket()
    # The street's window, and its members' plans, move on at each quarter hour: this module
    # (about 30 s, twice that under load) runs within one.
    clear_of_a_step_boundary(margin_s=90)
    servers: list[Server] = []
    try:
        host = Server(tmp_path_factory.mktemp("host"))
        servers.append(host)
        community = host.request("POST", "/api/v1/communities", {
            "name": "street", "capacity": {"consumption": f"{CAPACITY_KW} kW"},
            "horizon": "PT6H", "round-timeout": 30,
            "policy": {"preset": "marginal-value", "capacity-after-rounds": 2},
        }).body["community"]  # fmt: skip
        start = math.floor(time.time() / STEP_S) * STEP_S
        members = {}
        for kind in ("battery", "ev", "both", "heat"):
            member = Server(tmp_path_factory.mktemp(kind))
            servers.append(member)
            problem = home(kind, start)
            assert member.request("PUT", "/api/v1/sites/home", problem).status == 201
            code = host.request("POST", f"/api/v1/communities/{community}/invites", {})
            joined = member.request("PUT", "/api/v1/sites/home/community", {
                "host": host.base, "community": community, "invite": code.body["invite"],
                "name": kind,
            })  # fmt: skip
            assert joined.status == 201, joined.body
            members[kind] = (member, problem)
        running = {"host": host, "community": community, "members": members}
        yield running
        servers.append(running["host"])  # a test may have restarted it
    finally:
        for server in servers:
            server.stop()


def settled(street: dict[str, Any], timeout_s: float = 120) -> dict[str, Any]:
    host, community = street["host"], street["community"]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        overview = host.request("GET", f"/api/v1/communities/{community}").body
        if overview["status"] != "open" and overview["round_in_cycle"] > 0:
            return dict(overview)
        time.sleep(0.5)
    raise AssertionError(f"no convergence within {timeout_s} s: {overview}")


def reported_converged(status: dict[str, Any]) -> bool:
    """Converged, and the host's report the member holds says so too (a round that a member's
    new plan reopened is not settled, whatever the member said of the round before)."""
    report = status.get("report") or {}
    return bool(status["status"] == "converged" and report.get("status") == "converged")


def test_the_members_converge_and_their_plans_hold_the_shared_capacity(
    street: dict[str, Any],
) -> None:
    overview = settled(street)
    assert overview["status"] == "converged", overview
    assert [m["name"] for m in overview["members"]] == ["battery", "ev", "both", "heat"]
    assert not any(m["stale"] for m in overview["members"])
    assert max(overview["aggregate_kw"]) <= CAPACITY_KW + 1e-3
    assert overview["breaches"] == []
    # The plans the members' sites have now (what Home Assistant applies) add up within it.
    total = [0.0] * STEPS
    for member, _ in street["members"].values():
        plan = member.request("GET", "/api/v1/sites/home/plan").body["plan"]
        assert plan["start"][:16] == overview["start"][:16]  # the same window
        total = [a + b for a, b in zip(total, plan["site"]["net_power_kw"][:STEPS], strict=True)]
    assert max(total) <= CAPACITY_KW + 1e-3


def test_each_members_plan_is_its_own_problem_with_its_signals(street: dict[str, Any]) -> None:
    settled(street)
    for member, problem in street["members"].values():
        status = membership_when(member, reported_converged)
        assert "token" not in status
        report = status["report"]  # what the host tells this member, for Home Assistant
        assert report["peak_kw"] <= CAPACITY_KW + 1e-3, report
        assert "contribution_at_peak_kw" in report
        plan = member.request("GET", "/api/v1/sites/home/plan").body["plan"]
        start = time.mktime(time.strptime(report["start"][:19], "%Y-%m-%dT%H:%M:%S")) \
            - time.timezone  # fmt: skip
        again = schedule(with_community_signals(problem_at(problem, start), status["signals"]))
        assert again["site"]["net_power_kw"] == pytest.approx(plan["site"]["net_power_kw"])


def test_alone_they_would_break_it(street: dict[str, Any]) -> None:
    start = time.time()
    total = [0.0] * STEPS
    for _, problem in street["members"].values():
        plan = schedule(problem_at(problem, start))
        total = [a + b for a, b in zip(total, plan["site"]["net_power_kw"][:STEPS], strict=True)]
    assert max(total) > 2 * CAPACITY_KW


def test_a_member_that_leaves_stops_counting(street: dict[str, Any]) -> None:
    settled(street)
    member, _ = street["members"]["heat"]
    assert member.request("DELETE", "/api/v1/sites/home/community").status == 204
    assert member.request("GET", "/api/v1/sites/home/community").status == 404
    host, community = street["host"], street["community"]
    names = [m["name"] for m in host.request("GET", f"/api/v1/communities/{community}")
             .body["members"]]  # fmt: skip
    assert names == ["battery", "ev", "both"]
    assert max(settled(street)["aggregate_kw"]) <= CAPACITY_KW + 1e-3


def test_a_wrong_invite_is_refused_and_nothing_is_kept(
    tmp_path: Path, street: dict[str, Any]
) -> None:
    member, _ = street["members"]["battery"]
    reply = member.request("PUT", "/api/v1/sites/home/community", {
        "host": street["host"].base, "community": street["community"], "invite": "nope",
        "name": "x",
    })  # fmt: skip
    assert reply.status == 409 and reply.body["error"]["path"] == "invite"
    assert member.request("GET", "/api/v1/sites/home/community").body["member"]


def test_a_host_killed_mid_round_resumes_and_the_members_carry_on(
    street: dict[str, Any],
) -> None:
    host, community = street["host"], street["community"]
    settled(street)
    # A member's inputs change: the cycle opens again; the host dies in the middle of it.
    member, problem = street["members"]["ev"]
    changed = {**problem, "flex-context": {**problem["flex-context"],
                                           "inflexible-consumption": "0.9 kW"}}  # fmt: skip
    assert member.request("PUT", "/api/v1/sites/home", changed).status == 200
    deadline = time.monotonic() + 30
    while host.request("GET", f"/api/v1/communities/{community}").body["status"] != "open":
        assert time.monotonic() < deadline, "the inputs' change did not open the cycle again"
        time.sleep(0.1)
    host.stop(hard=True)
    restarted = Server(Path(host.log_path).parent, port=host.port)
    street["host"] = restarted
    overview = settled(street, timeout_s=180)
    assert overview["status"] == "converged"
    assert max(overview["aggregate_kw"]) <= CAPACITY_KW + 1e-3
