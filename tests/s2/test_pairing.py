"""Pairing S2 devices: a one-time, short-lived pairing token becomes a device token (kept only
hashed) that attaches the device to the pairing's site."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from flexems_optimizer.s2.tokens import PAIRING_S, S2Tokens

from ..api.server import Server
from ..optimizer.problems import battery, problem
from .peers import RM


def test_a_paired_device_attaches_to_its_site(server: Server) -> None:
    cabin = problem(4, prices=0.3, devices=[battery(soc_at_start=0, soc_max=1, power_capacity=1)])
    server.request("PUT", "/api/v1/sites/cabin", cabin)
    pairing = server.request("POST", "/api/v1/s2/pairings", {"site": "cabin", "label": "sauna"})
    assert pairing.status == 201
    assert pairing.body["url"] == f"ws://127.0.0.1:{server.port}/api/v1/s2"
    pairing_token = pairing.body["token"]
    # The pairing token itself opens no session: it is exchanged first, once.
    assert server.upgrade_status("/api/v1/s2", pairing_token) == 401
    device = server.request("POST", "/api/v1/s2/tokens", token=pairing_token)
    assert device.status == 201 and device.body["site"] == "cabin"
    assert server.request("POST", "/api/v1/s2/tokens", token=pairing_token).status == 401
    assert asyncio.run(describe_with(server, device.body["token"])) == "NOT_CONTROLABLE"
    attached = server.request("GET", "/api/v1/sites/cabin").body["s2_devices"]
    assert [d["resource_id"] for d in attached] == ["sauna-1"]
    assert "sauna-1" not in str(server.request("GET", "/api/v1/sites/home").body)
    # The device token is no API token.
    assert server.request("GET", "/api/v1/sites", token=device.body["token"]).status == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [({"label": ""}, "invalid_label"), ({"site": "Cabin!", "label": "x"}, "invalid_site"),
     ({}, "invalid_label"), ([], "invalid_type")],
)  # fmt: skip
def test_bad_pairings_say_what(server: Server, body: object, code: str) -> None:
    reply = server.request("POST", "/api/v1/s2/pairings", body)
    assert reply.status == 422 and reply.body["error"]["code"] == code


def test_pairing_needs_the_service_token(server: Server) -> None:
    reply = server.request("POST", "/api/v1/s2/pairings", {"label": "x"}, token="wrong")
    assert reply.status == 401


def test_pairing_tokens_expire_and_are_kept_hashed(tmp_path: Path) -> None:
    tokens = S2Tokens(tmp_path / "s2.sqlite")
    late, _ = tokens.pair("home", "heat pump", now=1000.0)
    assert tokens.exchange(late, now=1000.0 + PAIRING_S + 1) is None
    fresh, _ = tokens.pair("home", "battery", now=1000.0)
    exchanged = tokens.exchange(fresh, now=1001.0)
    assert exchanged is not None
    device_token, grant = exchanged
    assert (grant.site, grant.label) == ("home", "battery")
    assert tokens.device(device_token) == grant
    assert tokens.device(fresh) is None  # a pairing token is no device token
    tokens.close()
    with closing(sqlite3.connect(tmp_path / "s2.sqlite")) as db:
        hashes = {row[0] for row in db.execute("SELECT hash FROM s2_tokens")}
    assert not {late, fresh, device_token} & hashes and len(hashes) == 3


async def describe_with(server: Server, token: str) -> str:
    url = f"ws://127.0.0.1:{server.port}/api/v1/s2"
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        rm = RM(ws)
        await rm.receive()
        await rm.handshake()
        select = await rm.describe("sauna-1")
        return str(select["control_type"])
