"""The home's site kept in the add-on (`/api/v1/sites`), over real HTTP and a real WebSocket
to the service in a subprocess: stored, planned after a debounce, pushed, kept over restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from flexems_optimizer.samples import hard_home

from ..optimizer.problems import battery, problem
from .server import Server, clear_of_a_step_boundary, events
from .test_openapi_and_pages import _validator


def rolling_site(soc_at_start: float = 2.0) -> dict[str, Any]:
    """Four quarter hours from now on (no `start`), with constant prices."""
    body = problem(
        1, prices=0.3, devices=[battery(soc_at_start=soc_at_start, soc_max=4, power_capacity=2)]
    )
    del body["start"]
    body.update({"duration": "PT1H", "resolution": "PT15M"})
    return body


@pytest.fixture
def server(data_dir: Path) -> Any:
    running = Server(data_dir)
    yield running
    running.stop()


def test_a_rolling_site_is_planned_from_the_current_step_and_pushed(server: Server) -> None:
    clear_of_a_step_boundary()
    put = server.request("PUT", "/api/v1/sites/home", rolling_site())
    assert put.status == 201
    assert put.body["revision"] == 1 and put.body["rolling"]
    (event,) = asyncio.run(events(server, "home", 1))
    assert event["type"] == "plan" and event["revision"] == 1
    step = 900
    start = time.time() // step * step
    first = event["plan"]["timestamps"][0]
    assert time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)) in first
    assert len(event["plan"]["devices"]["battery"]["power_kw"]) == 4

    plan = server.request("GET", "/api/v1/sites/home/plan").body
    assert plan["revision"] == 1 and plan["current"] and plan["plan"] == event["plan"]
    site = server.request("GET", "/api/v1/sites/home").body
    assert site["problem"] == rolling_site() and site["s2_devices"] == []
    assert [s["site"] for s in server.request("GET", "/api/v1/sites").body["sites"]] == ["home"]


def test_site_answers_and_events_match_the_document(server: Server) -> None:
    document = server.request("GET", "/api/v1/openapi.json").body
    put = server.request("PUT", "/api/v1/sites/home", rolling_site())
    _validator(document, "Site").validate(put.body)
    (event,) = asyncio.run(events(server, "home", 1))
    _validator(document, "SitePlan").validate(event)
    _validator(document, "Plan").validate(event["plan"])
    _validator(document, "SitePlan").validate(server.request("GET", "/api/v1/sites/home/plan").body)
    _validator(document, "Site").validate(server.request("GET", "/api/v1/sites/home").body)
    _validator(document, "SiteList").validate(server.request("GET", "/api/v1/sites").body)
    _validator(document, "SiteProblem").validate(rolling_site())


def test_a_change_is_planned_at_once_and_a_burst_makes_one_plan_of_its_latest(
    server: Server,
) -> None:
    async def scenario() -> list[Any]:
        listening = asyncio.create_task(events(server, "home", 4, timeout_s=5))
        await asyncio.sleep(0.3)
        for soc in (1.0, 2.0, 3.0):
            await asyncio.to_thread(server.request, "PUT", "/api/v1/sites/home", rolling_site(soc))
        return await listening

    server.request("PUT", "/api/v1/sites/home", rolling_site(0.5))
    time.sleep(2.5)  # planned once, and quiet since
    received = asyncio.run(scenario())
    revisions = [event["revision"] for event in received]
    # The plan it has (1), the first change at once (2, or 3 if it came before the planner
    # read the store), then one plan of the rest of the burst: the latest (4), nothing more.
    assert revisions[0] == 1 and revisions[-1] == 4 and len(revisions) == 3, revisions
    assert received[-1]["plan"]["devices"]["battery"]["soc_kwh"][0] != pytest.approx(0.5)


def test_a_restart_keeps_the_site_and_plans_it_again(data_dir: Path) -> None:
    first = Server(data_dir)
    try:
        first.request("PUT", "/api/v1/sites/home", rolling_site())
        (before,) = asyncio.run(events(first, "home", 1))
    finally:
        first.stop(hard=True)
    second = Server(data_dir)
    try:
        site = second.request("GET", "/api/v1/sites/home")
        assert site.status == 200 and site.body["problem"] == rolling_site()
        # Planned again at start: the channel sends that plan (or the kept one, then it).
        received = asyncio.run(events(second, "home", 2, timeout_s=5))
        assert received[-1]["planned_at"] > before["planned_at"]
        assert received[-1]["revision"] == 1
    finally:
        second.stop()


def test_a_removed_site_is_gone_and_its_listeners_are_told(server: Server) -> None:
    server.request("PUT", "/api/v1/sites/home", rolling_site())
    asyncio.run(events(server, "home", 1))

    async def scenario() -> list[Any]:
        listening = asyncio.create_task(events(server, "home", 2, timeout_s=5))
        await asyncio.sleep(0.3)
        await asyncio.to_thread(server.request, "DELETE", "/api/v1/sites/home")
        return await listening

    received = asyncio.run(scenario())
    assert [event["type"] for event in received] == ["plan", "site_removed"]
    assert server.request("GET", "/api/v1/sites/home").status == 404
    assert server.request("DELETE", "/api/v1/sites/home").status == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "where"),
    [
        ("/api/v1/sites/home", {**rolling_site(), "resolution": "PT7"}, 422,
         "invalid_duration", "resolution"),
        ("/api/v1/sites/home", {**rolling_site(), "end": "2030-01-01T00:00:00Z"}, 422,
         "conflicting_fields", "end"),
        ("/api/v1/sites/home", [1, 2], 422, "invalid_type", ""),
        ("/api/v1/sites/Home!", rolling_site(), 404, "not_found", ""),
    ],
)  # fmt: skip
def test_bad_sites_are_refused_with_what_and_where(
    server: Server, path: str, body: Any, status: int, code: str, where: str
) -> None:
    reply = server.request("PUT", path, body)
    assert reply.status == status
    assert reply.body["error"]["code"] == code
    assert reply.body["error"]["path"] == where
    assert server.request("GET", "/api/v1/sites").body["sites"] == []


def test_sites_need_the_token(server: Server) -> None:
    assert server.request("PUT", "/api/v1/sites/home", rolling_site(), token="wrong").status == 401
    assert server.request("GET", "/api/v1/sites/nowhere").status == 404

    server.request("PUT", "/api/v1/sites/home", rolling_site())
    assert server.upgrade_status("/api/v1/sites/home/events") == 401


def test_asking_for_a_revision_waits_for_its_plan(server: Server) -> None:
    revision = server.request("PUT", "/api/v1/sites/home", rolling_site()).body["revision"]
    plan = server.request("GET", f"/api/v1/sites/home/plan?revision={revision}&wait=20")
    assert plan.status == 200 and plan.body["revision"] >= revision
    later = server.request("GET", f"/api/v1/sites/home/plan?revision={revision + 1}&wait=0.2")
    assert later.status == 202 and later.body["site"] == "home"  # not sent yet: still waiting
    for query in ("revision=0", "revision=x", "revision=1&wait=61"):
        bad = server.request("GET", f"/api/v1/sites/home/plan?{query}")
        assert bad.status == 400 and bad.body["error"]["code"] == "bad_request"


def test_a_failed_planning_says_why(data_dir: Path) -> None:
    slow = Server(data_dir, "--solve-time-limit", "0.05")
    try:
        year = rolling_site()
        year["duration"], year["resolution"] = "P365D", "PT1H"
        revision = slow.request("PUT", "/api/v1/sites/home", year).body["revision"]
        failed = slow.request("GET", f"/api/v1/sites/home/plan?revision={revision}&wait=30")
        assert failed.status == 409
        assert failed.body["error"]["code"] == "solver_failure"
        site = slow.request("GET", "/api/v1/sites/home").body
        assert site["failed_revision"] == revision and site["error"]["code"] == "solver_failure"
    finally:
        slow.stop()


def test_the_status_page_shows_the_sites_their_plans_and_the_communities_hosted(
    server: Server,
) -> None:
    empty = server.request("GET", "/").body
    assert "No sites yet" in empty and "Communities hosted" not in empty
    server.request("PUT", "/api/v1/sites/home", rolling_site())
    assert server.request("GET", "/api/v1/sites/home/plan?revision=1&wait=20").status == 200
    community = server.request("POST", "/api/v1/communities", {
        "name": "our street", "capacity": {"consumption": "40 kW", "production": "40 kW"},
        "resolution": "PT15M", "horizon": "PT2H"})  # fmt: skip
    assert community.status == 201, community.body
    html = server.request("GET", "/").body
    row = re.search(r"<tr><td><code>home</code></td>.*?</tr>", html)
    assert row is not None, html
    assert "optimal, 4 steps of PT15M" in row.group(0) and "battery" in row.group(0)
    assert "EUR" in row.group(0)
    assert "site <code>home</code>, revision 1" in html  # the chart is the site's plan
    assert html.count("<rect") == 4
    assert "Communities hosted" in html and "our street" in html
    assert "No one-shot jobs yet" in html


def test_a_site_is_planned_again_from_its_last_plan(data_dir: Path) -> None:
    """The on/off choices of a site's plan are where its next plan starts: the same problem
    again is planned from them, at most as dear (and a removed site forgets them)."""
    quick = Server(data_dir, "--search-time-limit", "0.3")
    try:
        home = hard_home(96, 1)
        first = planned(quick, quick.request("PUT", "/api/v1/sites/home", home).body["revision"])
        assert first["solver"]["started_from"] == "relaxation"
        again = planned(quick, quick.request("PUT", "/api/v1/sites/home", home).body["revision"])
        assert again["solver"]["started_from"] == "earlier_plan"
        assert again["costs"]["total_eur"] <= first["costs"]["total_eur"] + 1e-6
        assert quick.request("DELETE", "/api/v1/sites/home").status == 204
        anew = planned(quick, quick.request("PUT", "/api/v1/sites/home", home).body["revision"])
        assert anew["solver"]["started_from"] == "relaxation"
    finally:
        log = quick.stop()
    assert "Traceback" not in log


def test_a_restart_keeps_where_the_next_plan_starts(data_dir: Path) -> None:
    """The last plan's on/off choices are stored with the site: the plan made at start (the
    same problem) starts from them, not from the relaxation, and is at most as dear."""
    first = Server(data_dir, "--search-time-limit", "0.3")
    try:
        home = hard_home(96, 1)
        before = planned(first, first.request("PUT", "/api/v1/sites/home", home).body["revision"])
        assert before["solver"]["started_from"] == "relaxation"
        kept_at = first.request("GET", "/api/v1/sites/home/plan").body["planned_at"]
    finally:
        first.stop(hard=True)
    second = Server(data_dir, "--search-time-limit", "0.3")
    try:
        after = planned_after(second, kept_at)
        assert after["solver"]["started_from"] == "earlier_plan"
        assert after["costs"]["total_eur"] <= before["costs"]["total_eur"] + 1e-6
    finally:
        log = second.stop()
    assert "Traceback" not in log


def test_a_store_written_before_choices_were_kept_opens_and_keeps_them(data_dir: Path) -> None:
    """A data file of a release without the sites' `choices` column gets it when opened."""
    data_dir.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(data_dir / "flexems.sqlite")) as db, db:
        db.execute(
            "CREATE TABLE sites (id TEXT PRIMARY KEY, problem TEXT NOT NULL, revision INTEGER "
            "NOT NULL, updated_at REAL NOT NULL, plan TEXT, plan_revision INTEGER, planned_at "
            "REAL, error TEXT, failed_revision INTEGER)"
        )
        db.execute(
            "INSERT INTO sites (id, problem, revision, updated_at) VALUES (?, ?, 1, 0)",
            ("home", json.dumps(hard_home(96, 1))),
        )
    server = Server(data_dir, "--search-time-limit", "0.3")
    try:
        assert planned(server, 1)["solver"]["started_from"] == "relaxation"
        again = planned(server, server.request("PUT", "/api/v1/sites/home",
                                               hard_home(96, 1)).body["revision"])  # fmt: skip
        assert again["solver"]["started_from"] == "earlier_plan"
    finally:
        log = server.stop()
    assert "Traceback" not in log


def test_a_change_shows_after_a_short_search_and_the_searched_plan_follows(
    data_dir: Path,
) -> None:
    """A home whose plan is not proven soon (an EV's minimum current under a peak price) gets
    its plan after a short search, then the plan of the whole search limit, cheaper, for the
    same revision (it showed nothing until the whole limit had passed); with a search limit
    no longer than the short search, one plan."""
    for limit, expected, listen_s in (("6", 2, 12.0), ("0.4", 1, 2.0)):
        server = Server(data_dir / f"limit-{limit}", "--search-time-limit", limit)
        try:
            server.request("PUT", "/api/v1/sites/home", hard_home(96, 0))
            plans = asyncio.run(events(server, "home", 2, listen_s, kinds={"plan"}))
        finally:
            log = server.stop()
        assert "Traceback" not in log
        assert [plan["revision"] for plan in plans] == [1] * expected
        first = plans[0]["plan"]
        assert first["solver"]["proven_optimal"] is False
        if expected == 2:
            searched = plans[1]["plan"]
            assert searched["costs"]["total_eur"] < first["costs"]["total_eur"] - 1e-6
            assert searched["solver"]["started_from"] == "earlier_plan"  # from the first's
            assert first["solver"]["total_s"] < searched["solver"]["total_s"]


def test_a_change_during_the_longer_search_ends_it_and_is_planned_at_once(
    data_dir: Path,
) -> None:
    """The searched plan of a change is of the older problem once the site changes again: its
    search ends (the worker lives on) and the new change is planned at once, not after the
    search limit's 30 s."""
    server = Server(data_dir, "--search-time-limit", "30", "--workers", "1")
    try:
        first = server.request("PUT", "/api/v1/sites/home", hard_home(96, 0)).body["revision"]
        assert planned(server, first)["solver"]["proven_optimal"] is False  # its search goes on
        time.sleep(0.5)
        changed = time.monotonic()
        second = server.request("PUT", "/api/v1/sites/home", hard_home(96, 1)).body["revision"]
        assert planned(server, second)["solver"]["started_from"]
        assert time.monotonic() - changed < 10
        plans = asyncio.run(events(server, "home", 2, 2.0, kinds={"plan"}))
        assert [plan["revision"] for plan in plans] == [second]  # the first's search: not kept
    finally:
        log = server.stop()
    assert "Traceback" not in log and "starting a new one" not in log  # no worker replaced


def planned_after(server: Server, planned_at: str, timeout_s: float = 30) -> Any:
    """The site's plan once it is newer than the one planned at `planned_at`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reply = server.request("GET", "/api/v1/sites/home/plan").body
        if reply["planned_at"] != planned_at:
            return reply["plan"]
        time.sleep(0.2)
    raise AssertionError(f"no plan after the one of {planned_at}")


def planned(server: Server, revision: int) -> Any:
    reply = server.request("GET", f"/api/v1/sites/home/plan?revision={revision}&wait=30")
    assert reply.status == 200 and reply.body["revision"] == revision, reply.body
    return reply.body["plan"]
