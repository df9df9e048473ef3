"""S2 sessions with the real service over real WebSockets: raw-JSON Resource Managers check
every session rule; every message flexems sends is validated by the standard's schemas."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import aiohttp
import pytest

from ..api.server import Server
from ..optimizer.problems import battery, problem
from .peers import connected

NO_MESSAGE = "00000000-0000-0000-0000-000000000000"


def test_a_session_selects_a_control_type_the_rm_listed(server: Server) -> None:
    async def session() -> None:
        async with connected(server) as rm:
            response = await rm.handshake()
            assert response["message_type"] == "HandshakeResponse"
            assert response["selected_protocol_version"] == "0.0.2-beta"
            select = await rm.describe()
            assert select["message_type"] == "SelectControlType"
            assert select["control_type"] == "NOT_CONTROLABLE"  # the only one it listed
            # The best flexems plans of those listed: FRBC before NOT_CONTROLLABLE.
            both = await rm.describe(
                available_control_types=["NOT_CONTROLABLE", "FILL_RATE_BASED_CONTROL"]
            )
            assert both["control_type"] == "FILL_RATE_BASED_CONTROL"
            other = await rm.describe(available_control_types=["OPERATION_MODE_BASED_CONTROL"])
            assert other["control_type"] == "NO_SELECTION"  # never one it did not list

    asyncio.run(session())


def test_no_common_version_terminates_with_a_reason(server: Server) -> None:
    async def session() -> None:
        async with connected(server) as rm:
            sent = await rm.send("Handshake", role="RM", supported_protocol_versions=["9.9"])
            status = await rm.status_of(sent)
            assert status["status"] == "INVALID_CONTENT"
            terminate = await rm.receive()
            assert terminate["message_type"] == "SessionRequest"
            assert (
                terminate["request"] == "TERMINATE"
                and "0.0.2-beta" in terminate["diagnostic_label"]
            )
            closing = await rm.ws.receive(timeout=5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

    asyncio.run(session())


def test_every_bad_message_gets_its_status_and_the_session_goes_on(server: Server) -> None:
    async def session() -> None:
        async with connected(server) as rm:
            early = await rm.send(
                "PowerMeasurement", measurement_timestamp="2026-06-01T00:00:00Z",
                values=[{"commodity_quantity": "ELECTRIC.POWER.3_PHASE_SYMMETRIC", "value": 1}],
            )  # fmt: skip
            assert (await rm.status_of(early))["status"] == "INVALID_CONTENT"  # handshake first
            await rm.handshake()
            await rm.ws.send_str("{not json")
            assert (await rm.status_of(NO_MESSAGE))["status"] == "INVALID_DATA"
            bad = await rm.send("Handshake", role="KING", supported_protocol_versions=[])
            invalid = await rm.status_of(bad)
            assert invalid["status"] == "INVALID_MESSAGE" and "role" in invalid["diagnostic_label"]
            unknown = await rm.send("Teleport")
            assert (await rm.status_of(unknown))["status"] == "INVALID_MESSAGE"
            await rm.describe()
            frbc = await rm.send("FRBC.StorageStatus", present_fill_level=50.0)
            status = await rm.status_of(frbc)  # its control type is not the active one
            assert status["status"] == "INVALID_CONTENT"
            assert "FILL_RATE_BASED_CONTROL" in status["diagnostic_label"]
            gas = await rm.send(
                "PowerMeasurement", measurement_timestamp="2026-06-01T00:00:00Z",
                values=[{"commodity_quantity": "NATURAL_GAS.FLOW_RATE", "value": 1.0}],
            )  # fmt: skip
            assert (await rm.status_of(gas))["status"] == "INVALID_CONTENT"  # not announced
            who = await rm.send(
                "InstructionStatusUpdate", instruction_id="i1", status_type="ACCEPTED",
                timestamp="2026-06-01T00:00:00Z",
            )  # fmt: skip
            assert (await rm.status_of(who))["status"] == "INVALID_CONTENT"  # no such instruction
            fine = await rm.send(
                "PowerMeasurement", measurement_timestamp="2026-06-01T00:00:00Z",
                values=[{"commodity_quantity": "ELECTRIC.POWER.3_PHASE_SYMMETRIC", "value": 800}],
            )  # fmt: skip
            assert (await rm.status_of(fine))["status"] == "OK"  # the session survived it all
            await rm.ws.send_json({"message_type": "ReceptionStatus",
                                   "subject_message_id": "x1", "status": "OK"})  # fmt: skip
            bye = await rm.send("SessionRequest", request="TERMINATE")
            assert (await rm.status_of(bye))["status"] == "OK"  # nothing for the status above

    asyncio.run(session())


def test_no_anonymous_sessions_and_no_oversized_frames(server: Server) -> None:
    async def oversized() -> int | None:
        async with connected(server) as rm:
            await rm.ws.send_str("x" * (1024 * 1024 + 1))
            closing = await rm.ws.receive(timeout=5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            return rm.ws.close_code

    assert server.upgrade_status("/api/v1/s2") == 401
    assert server.upgrade_status("/api/v1/s2", "wrong") == 401
    assert asyncio.run(oversized()) == 1009  # message too big


def test_a_device_outside_control_is_part_of_the_site_plan(tmp_path: Path) -> None:
    server = Server(tmp_path / "data")
    try:
        now = time.time()
        start = time.strftime("%Y-%m-%dT%H:00:00+00:00", time.gmtime(now))
        site = problem(4, prices=0.3, devices=[battery(soc_at_start=0, soc_max=1,
                                                       power_capacity=1)], start=start)  # fmt: skip
        server.request("PUT", "/api/v1/sites/home", site)
        before = server.request("GET", "/api/v1/sites/home/plan?revision=1&wait=20").body["plan"]

        async def session() -> None:
            async with connected(server) as rm:
                await rm.handshake()
                await rm.describe("heater-1")
                forecast = await rm.send(
                    "PowerForecast", start_time=start, elements=[{
                        "duration": 4 * 3600 * 1000,  # milliseconds
                        "power_values": [{"commodity_quantity": "ELECTRIC.POWER.3_PHASE_SYMMETRIC",
                                          "value_expected": 2000.0}]}],
                )  # fmt: skip
                assert (await rm.status_of(forecast))["status"] == "OK"
                await asyncio.sleep(0)

        asyncio.run(session())
        net_before = before["site"]["net_power_kw"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            after = server.request("GET", "/api/v1/sites/home/plan").body["plan"]
            if after["site"]["net_power_kw"][0] > net_before[0] + 1:
                break
            time.sleep(0.1)
        # 2 kW more import in every step: the device's forecast is the site's load.
        more = [a - b for a, b in zip(after["site"]["net_power_kw"], net_before, strict=True)]
        assert more == pytest.approx([2.0] * 4)
        # The plan lists the device under its resource id, as it said it would run.
        heater = after["devices"]["heater-1"]
        assert (heater["type"], heater["control_type"], heater["name"]) == (
            "s2", "NOT_CONTROLABLE", "heat meter")  # fmt: skip
        assert heater["power_kw"] == pytest.approx([2.0] * 4)
        described = server.request("GET", "/api/v1/sites/home").body["s2_devices"]
        assert [(d["resource_id"], d["control_type"], d["connected"]) for d in described] == [
            ("heater-1", "NOT_CONTROLABLE", False)]  # fmt: skip
    finally:
        server.stop()


def test_a_hundred_rms_at_once(server: Server) -> None:
    async def one(index: int) -> str:
        async with connected(server) as rm:
            await rm.handshake()
            select = await rm.describe(f"device-{index}")
            return str(select["control_type"])

    async def all_of_them() -> list[str]:
        return await asyncio.gather(*(one(i) for i in range(100)))

    assert asyncio.run(all_of_them()) == ["NOT_CONTROLABLE"] * 100


def test_after_kill_9_sites_and_devices_are_back_and_rms_reconnect(tmp_path: Path) -> None:
    first = Server(tmp_path / "data")
    site = problem(4, prices=0.3, devices=[battery(soc_at_start=0, soc_max=1, power_capacity=1)])
    first.request("PUT", "/api/v1/sites/home", site)

    async def describe_and_hold(server: Server, hold: asyncio.Event | None) -> None:
        async with connected(server) as rm:
            await rm.handshake()
            await rm.describe("boiler-1")
            if hold is not None:
                await hold.wait()

    async def killed_mid_session() -> None:
        hold = asyncio.Event()
        session = asyncio.create_task(describe_and_hold(first, hold))
        for _ in range(200):
            devices = first.request("GET", "/api/v1/sites/home").body["s2_devices"]
            if devices and devices[0]["connected"]:
                break
            await asyncio.sleep(0.05)
        first.stop(hard=True)  # kill -9 while the RM is connected
        hold.set()
        with contextlib.suppress(aiohttp.ClientError, AssertionError, TimeoutError):
            await asyncio.wait_for(session, 20)

    asyncio.run(killed_mid_session())
    again = Server(tmp_path / "data")
    try:
        back = again.request("GET", "/api/v1/sites/home").body
        assert back["problem"] == site
        assert [(d["resource_id"], d["connected"]) for d in back["s2_devices"]] == [
            ("boiler-1", False)]  # fmt: skip
        asyncio.run(describe_and_hold(again, None))  # the RM reconnects: a new handshake
        devices = again.request("GET", "/api/v1/sites/home").body["s2_devices"]
        assert [d["resource_id"] for d in devices] == ["boiler-1"]  # one device, kept
    finally:
        again.stop()


def test_a_reconnect_request_ends_the_session_and_a_new_one_starts_with_a_handshake(
    server: Server,
) -> None:
    async def reconnecting() -> str:
        async with connected(server) as rm:
            await rm.handshake()
            await rm.describe("pump-9")
            again = await rm.send("SessionRequest", request="RECONNECT")
            assert (await rm.status_of(again))["status"] == "OK"
            closing = await rm.ws.receive(timeout=5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        async with connected(server) as rm:  # the CEM's Handshake first again
            await rm.handshake()
            return str((await rm.describe("pump-9"))["control_type"])

    assert asyncio.run(reconnecting()) == "NOT_CONTROLABLE"
