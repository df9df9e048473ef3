"""A community hosted by a real add-on on loopback: invites, joining, rounds, profiles, the
host's view and a member's report, and every way in that is not a member's own."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_socket

from tests.api.server import Server, clear_of_a_step_boundary

CAPACITY = {"consumption": "10 kW", "production": "10 kW"}
STEPS = 8


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pytest_socket.enable_socket()
    running = Server(tmp_path_factory.mktemp("host"))
    yield running
    running.stop()


def create(host: Server, **settings: Any) -> str:
    body = {"name": "street", "capacity": CAPACITY, "resolution": "PT15M", "horizon": "PT2H",
            "round-timeout": 5, **settings}  # fmt: skip
    reply = host.request("POST", "/api/v1/communities", body)
    assert reply.status == 201, reply.body
    return str(reply.body["community"])


def invite(host: Server, community: str) -> str:
    reply = host.request("POST", f"/api/v1/communities/{community}/invites", {})
    assert reply.status == 201, reply.body
    return str(reply.body["invite"])


def join(host: Server, community: str, name: str) -> tuple[str, str]:
    body = {"invite": invite(host, community), "name": name}
    reply = host.request("POST", f"/api/v1/communities/{community}/members", body, token="")
    assert reply.status == 201, reply.body
    return reply.body["member"], reply.body["token"]


def current(host: Server, community: str, token: str) -> dict[str, Any]:
    reply = host.request("GET", f"/api/v1/communities/{community}/rounds/current", token=token)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def post(
    host: Server, community: str, member: str, token: str, net: list[float], **extra: Any
) -> Any:
    now = current(host, community, token)
    body = {"round": now["round"], "start": now["start"], "resolution": now["resolution"],
            "net_power_kw": net, **extra}  # fmt: skip
    path = f"/api/v1/communities/{community}/members/{member}/profile"
    return host.request("PUT", path, body, token=token)


def test_members_post_rounds_and_the_host_answers_with_signals(host: Server) -> None:
    community = create(host)
    (a, a_token), (b, b_token) = join(host, community, "a"), join(host, community, "b")
    first = current(host, community, a_token)
    assert first["status"] == "open" and first["round_in_cycle"] == 0
    assert first["signals"] == {} and first["steps"] == STEPS
    # Both charge in step 2: 14 kW on a 10 kW connection.
    assert post(host, community, a, a_token, [1, 1, 8, 1, 1, 1, 1, 1]).status == 200
    assert current(host, community, b_token)["round"] == first["round"]  # waits for b
    reply = post(host, community, b, b_token, [1, 1, 6, 1, 1, 1, 1, 1])
    assert reply.status == 200
    second = current(host, community, a_token)
    assert second["round"] == first["round"] + 1 and second["round_in_cycle"] == 1
    price = second["signals"]["community-price"]["values"]
    assert price[2] == max(price) > 0 and price[-1] == 0  # a hill around step 2
    overview = host.request("GET", f"/api/v1/communities/{community}").body
    assert [m["name"] for m in overview["members"]] == ["a", "b"]
    assert overview["aggregate_kw"][2] == 14.0
    assert [breach["over_kw"] for breach in overview["breaches"]] == [4.0]
    report = host.request("GET", f"/api/v1/communities/{community}/report", token=a_token).body
    assert report["peak_kw"] == 14.0 and report["contribution_at_peak_kw"] == 8.0
    assert "members" not in report  # never the others' profiles


def test_a_member_reaches_only_its_own(host: Server) -> None:
    community = create(host)
    (a, a_token), (b, _) = join(host, community, "a"), join(host, community, "b")
    other = create(host)
    _, stranger = join(host, other, "x")
    assert post(host, community, b, a_token, [0.0] * STEPS).status == 403  # b's profile
    base = f"/api/v1/communities/{community}"
    assert host.request("GET", f"{base}/rounds/current", token=stranger).status == 403
    assert host.request("GET", f"{base}/report", token=stranger).status == 403
    assert host.request("GET", base, token=a_token).status == 403  # the host's view
    assert host.request("POST", f"{base}/invites", {}, token=a_token).status == 403
    assert host.request("DELETE", f"{base}/members/{b}", token=a_token).status == 403
    assert host.request("GET", f"{base}/report", token="").status == 401
    assert host.request("GET", f"{base}/report", token="made-up").status == 401
    assert post(host, community, a, a_token, [0.0] * STEPS).status == 200


def test_invites_are_one_time_and_expire(host: Server) -> None:
    community = create(host)
    code = invite(host, community)
    path = f"/api/v1/communities/{community}/members"
    assert host.request("POST", path, {"invite": code, "name": "a"}, token="").status == 201
    again = host.request("POST", path, {"invite": code, "name": "b"}, token="")
    assert again.status == 403 and again.body["error"]["code"] == "invalid_invite"
    other = create(host)
    elsewhere = host.request(
        "POST", f"/api/v1/communities/{other}/members", {"invite": invite(host, community),
                                                        "name": "c"}, token="",
    )  # fmt: skip
    assert elsewhere.status == 403
    short = host.request("POST", f"/api/v1/communities/{community}/invites",
                         {"expires_in": "PT10S"})  # fmt: skip
    assert short.status == 422 and short.body["error"]["path"] == "expires_in"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"round": 999}, "round"),
        ({"start": "2020-01-01T00:00:00Z"}, "start"),
        ({"resolution": "PT1H"}, "resolution"),
        ({"net_power_kw": [1.0] * (STEPS - 1)}, "net_power_kw"),
        ({"net_power_kw": [1.0] * (STEPS - 1) + ["NaN"]}, f"net_power_kw[{STEPS - 1}]"),
        ({"net_power_kw": [1e9] * STEPS}, "net_power_kw[0]"),
        ({"consumption_marginal_value_eur_per_kw": [-1.0] * STEPS},
         "consumption_marginal_value_eur_per_kw[0]"),
        ({"devices": {}}, "devices"),
    ],
)  # fmt: skip
def test_a_bad_profile_is_refused_with_its_path(
    host: Server, change: dict[str, Any], path: str
) -> None:
    community = create(host)
    member, token = join(host, community, "a")
    now = current(host, community, token)
    body = {"round": now["round"], "start": now["start"], "resolution": now["resolution"],
            "net_power_kw": [1.0] * STEPS, **change}  # fmt: skip
    reply = host.request(
        "PUT", f"/api/v1/communities/{community}/members/{member}/profile", body, token=token
    )
    assert reply.status == 422, reply.body
    assert reply.body["error"]["path"] == path


def test_bad_settings_are_refused_with_their_path(host: Server) -> None:
    for settings, path in (
        ({"capacity": {"consumption": "-1 kW"}}, "capacity.consumption"),
        ({"horizon": "PT7M"}, "horizon"),
        ({"policy": "nope"}, "policy"),
        ({"owner": "me"}, "owner"),
    ):
        body = {"name": "x", "capacity": CAPACITY, **settings}
        reply = host.request("POST", "/api/v1/communities", body)
        assert reply.status == 422 and reply.body["error"]["path"] == path


def test_a_member_that_misses_a_round_is_stale_and_a_member_that_leaves_stops_counting(
    host: Server,
) -> None:
    community = create(host, **{"round-timeout": 1})
    (a, a_token), (b, b_token) = join(host, community, "a"), join(host, community, "b")
    post(host, community, a, a_token, [12.0] + [1.0] * (STEPS - 1))
    started = current(host, community, a_token)["round"]
    deadline = time.monotonic() + 10
    while current(host, community, a_token)["round"] == started:
        assert time.monotonic() < deadline, "the round never timed out"
        time.sleep(0.2)
    overview = host.request("GET", f"/api/v1/communities/{community}").body
    assert {m["name"]: m["stale"] for m in overview["members"]} == {"a": False, "b": True}
    assert host.request("DELETE", f"/api/v1/communities/{community}/members/{b}",
                        token=b_token).status == 204  # fmt: skip
    overview = host.request("GET", f"/api/v1/communities/{community}").body
    assert [m["name"] for m in overview["members"]] == ["a"]
    assert host.request("GET", f"/api/v1/communities/{community}/report",
                        token=b_token).status == 401  # fmt: skip


def test_the_hosts_database_holds_no_device_data_and_only_hashed_tokens(host: Server) -> None:
    community = create(host)
    member, token = join(host, community, "a")
    post(host, community, member, token, [1.0] * STEPS)
    db = sqlite3.connect(Path(host.log_path).parent / "flexems.sqlite")
    dump = "\n".join(db.iterdump())
    assert token not in dump
    assert "flex-model" not in dump and "soc" not in dump
    columns = [row[1] for row in db.execute("PRAGMA table_info(community_profiles)")]
    assert columns == ["community", "member", "round", "window_start", "profile", "posted_at"]


def test_a_restarted_host_resumes_the_round(tmp_path: Path) -> None:
    running = Server(tmp_path / "host")
    try:
        community = create(running)
        (a, a_token), (b, b_token) = join(running, community, "a"), join(running, community, "b")
        post(running, community, a, a_token, [9.0] * STEPS)
        post(running, community, b, b_token, [9.0] * STEPS)
        before = current(running, community, a_token)
        running.stop(hard=True)
        running = Server(tmp_path / "host", port=running.port)
        after = current(running, community, a_token)
        assert (after["round"], after["signals"]) == (before["round"], before["signals"])
    finally:
        running.stop()


def test_two_members_posting_at_once_are_both_kept(host: Server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    community = create(host)
    joined = [join(host, community, name) for name in ("a", "b")]
    first = current(host, community, joined[0][1])["round"]
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(
            lambda pair: post(host, community, pair[0], pair[1], [1.0] * STEPS), joined
        ))  # fmt: skip
    assert [reply.status for reply in replies] == [200, 200]
    overview = host.request("GET", f"/api/v1/communities/{community}").body
    assert overview["aggregate_kw"] == [2.0] * STEPS  # both profiles counted
    assert overview["status"] == "converged" and overview["round"] == first


def test_the_hosts_view_is_pushed_as_it_changes(host: Server) -> None:
    community = create(host, **{"round-timeout": 60})  # no member goes stale meanwhile
    clear_of_a_step_boundary(margin_s=20)  # nor does the window move
    url = f"ws://127.0.0.1:{host.port}/api/v1/communities/{community}/events"

    async def watch() -> list[Any]:
        views: list[Any] = []
        headers = {"Authorization": f"Bearer {host.token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, headers=headers) as ws,
        ):
            views.append((await ws.receive_json(timeout=10))["view"])  # at once
            # A member joins: news. Several seconds of nothing new: no event.
            await asyncio.to_thread(join, host, community, "a")
            views.append((await ws.receive_json(timeout=10))["view"])
            with contextlib.suppress(TimeoutError):
                views.append((await ws.receive_json(timeout=2.5))["view"])
            # The host stops hosting: the last event says so and the channel closes.
            await asyncio.to_thread(host.request, "DELETE", f"/api/v1/communities/{community}")
            while (message := await ws.receive(timeout=10)).type is aiohttp.WSMsgType.TEXT:
                views.append(message.json()["view"])
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        return views

    views = asyncio.run(watch())
    assert [len(view["members"]) if view else None for view in views] == [0, 1, None]
    assert views[1]["members"][0]["name"] == "a"


def test_only_the_host_hears_its_view(host: Server) -> None:
    community = create(host)
    _, token = join(host, community, "a")

    events = f"/api/v1/communities/{community}/events"
    assert host.upgrade_status(events, token) == 403  # a member's token
    assert host.upgrade_status(events) == 401
    assert host.upgrade_status("/api/v1/communities/c000000000000/events", host.token) == 404
    assert host.upgrade_status(events, host.token) == 101
