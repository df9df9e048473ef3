"""FRBC devices over real WebSockets to the real service: what they say is checked against their
own description, they join the site's plan, and each new plan reaches them as instructions
(revoking the superseded ones); their instruction statuses are tracked."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from ..api.server import Server, events
from .peers import (
    FRBC,
    describe_heat_pump,
    device_when,
    frbc_connected,
    hard_home_now,
    heat_pump_now,
    now_iso,
    plan_when,
    rolling_site,
)


def test_an_frbc_heat_pump_is_planned_and_instructed(server: Server) -> None:
    # Dear for two hours, cheap for two, dear after: it heats in the cheap hours.
    server.request("PUT", "/api/v1/sites/home", rolling_site([0.4] * 8 + [0.05] * 8 + [0.3] * 20))

    async def session() -> None:
        async with frbc_connected(server, "hot-water-1") as rm:
            # A steady draw (no showers: the same at any time of day) empties it in two hours.
            await describe_heat_pump(rm, heat_pump_now(fill_level=46.5, showers=False))
            first = await rm.next_of("FRBC.Instruction")
            assert (first["actuator_id"], first["operation_mode"]) == ("hp0", "om0")
            assert 0.0 <= first["operation_mode_factor"] <= 1.0
            at = datetime.fromisoformat(first["execution_time"]).timestamp()
            assert at >= time.time() + 3600  # in the cheap hours, not now
            # The RM names it by the instruction's id, or (tolerated) by its message id.
            accepted = await rm.send("InstructionStatusUpdate", instruction_id=first["id"],
                                     status_type="ACCEPTED", timestamp=now_iso())  # fmt: skip
            assert (await rm.status_of(accepted))["status"] == "OK"
            by_message = await rm.send("InstructionStatusUpdate",
                                       instruction_id=first["message_id"],
                                       status_type="NEW", timestamp=now_iso())  # fmt: skip
            assert (await rm.status_of(by_message))["status"] == "OK"
            device = await device_when(server, "hot-water-1", lambda d: d["instructions"])
            statuses = {i["id"]: i["status"] for i in device["instructions"]}
            assert statuses[first["id"]] == "NEW"
            assert device["fill_level"] == 46.5 and device["fill_level_label"] == "°C"
            assert device["active_operation_modes"] == {"hp0": "om1"}
            plan = server.request("GET", "/api/v1/sites/home/plan").body["plan"]
            part = plan["devices"]["hot-water-1"]
            assert (part["type"], part["control_type"]) == ("s2", FRBC)
            modes = part["actuators"]["hp0"]["operation_mode"]
            assert modes[:8] == ["om1"] * 8 and "om0" in modes[8:16]
            assert len(part["fill_level"]) == len(modes) and part["fill_level_label"] == "°C"

            # Suddenly cold: it must heat at once; the instruction for later is revoked.
            cold = await rm.tell("FRBC.StorageStatus", {"present_fill_level": 44.0})
            assert cold["status"] == "OK"
            revoke = await rm.next_of("RevokeObject")
            assert (revoke["object_type"], revoke["object_id"]) == ("FRBC.Instruction",
                                                                    first["id"])  # fmt: skip
            now = await rm.next_of("FRBC.Instruction")
            assert now["operation_mode"] == "om0" and now["id"] != first["id"]
            at = datetime.fromisoformat(now["execution_time"]).timestamp()
            assert time.time() + 5 <= at <= time.time() + 12  # now + its 10 s processing delay

    asyncio.run(session())


def test_what_an_frbc_device_says_must_fit_its_description(server: Server) -> None:
    async def session() -> None:
        async with frbc_connected(server, "hot-water-2") as rm:
            early = await rm.tell("FRBC.ActuatorStatus", {
                "actuator_id": "hp0", "active_operation_mode_id": "om1",
                "operation_mode_factor": 0.0})  # fmt: skip
            assert early["status"] == "INVALID_CONTENT"
            assert "SystemDescription first" in early["diagnostic_label"]
            messages = heat_pump_now()
            await rm.tell("FRBC.SystemDescription", messages["system-description"])
            cases = [
                ("FRBC.ActuatorStatus", {"actuator_id": "hp9", "active_operation_mode_id": "om1",
                                         "operation_mode_factor": 0.0}, "hp9"),
                ("FRBC.ActuatorStatus", {"actuator_id": "hp0", "active_operation_mode_id": "om7",
                                         "operation_mode_factor": 0.0}, "om7"),
                ("FRBC.ActuatorStatus", {"actuator_id": "hp0", "active_operation_mode_id": "om0",
                                         "operation_mode_factor": 1.5}, "[0, 1]"),
                ("FRBC.TimerStatus", {"actuator_id": "hp0", "timer_id": "egg-timer",
                                      "finished_at": now_iso()}, "egg-timer"),
                ("FRBC.Instruction", {"id": "i-1", "actuator_id": "hp0", "operation_mode": "om0",
                                      "operation_mode_factor": 0.5, "execution_time": now_iso(),
                                      "abnormal_condition": False}, "CEM"),
                ("RevokeObject", {"object_type": "FRBC.SystemDescription",
                                  "object_id": "not-it"}, "not-it"),
            ]  # fmt: skip
            for kind, body, named in cases:
                status = await rm.tell(kind, body)
                assert status["status"] == "INVALID_CONTENT", (kind, status)
                assert named in status["diagnostic_label"], (named, status)
            broken = dict(messages["system-description"])
            broken["actuators"] = [{**broken["actuators"][0], "timers": []}]
            status = await rm.tell("FRBC.SystemDescription", broken)
            assert (
                status["status"] == "INVALID_CONTENT"
                and "unknown timer" in status["diagnostic_label"]
            )
            ok = await rm.tell("FRBC.StorageStatus", {"present_fill_level": 50.0})
            assert ok["status"] == "OK"  # the session survived it all

    asyncio.run(session())


def test_a_revoked_description_takes_the_device_out_of_the_plan(server: Server) -> None:
    server.request("PUT", "/api/v1/sites/home", rolling_site([0.3] * 36))

    async def session() -> None:
        async with frbc_connected(server, "hot-water-3") as rm:
            messages = heat_pump_now()
            await describe_heat_pump(rm, messages)
            await plan_when(server, lambda plan: "hot-water-3" in plan["devices"])
            sent = await rm.send(
                "FRBC.SystemDescription",
                **{k: v for k, v in messages["system-description"].items() if k != "message_id"},
            )
            assert (await rm.status_of(sent))["status"] == "OK"
            revoke = await rm.send("RevokeObject", object_type="FRBC.SystemDescription",
                                   object_id=sent)  # fmt: skip
            assert (await rm.status_of(revoke))["status"] == "OK"
            await plan_when(server, lambda plan: "hot-water-3" not in plan["devices"])

    asyncio.run(session())


def test_after_kill_9_an_frbc_device_is_back_and_instructed_again(tmp_path: Path) -> None:
    site = rolling_site([0.3] * 36)

    async def instructed(server: Server, hold: asyncio.Event | None) -> dict[str, Any]:
        async with frbc_connected(server, "hot-water-9") as rm:
            await describe_heat_pump(rm, heat_pump_now(fill_level=44.0))  # heat at once
            instruction = await rm.next_of("FRBC.Instruction")
            if hold is not None:
                await hold.wait()
            return instruction

    async def killed_mid_session(server: Server) -> None:
        hold = asyncio.Event()
        session = asyncio.create_task(instructed(server, hold))
        await device_when(server, "hot-water-9", lambda d: d["instructions"])
        server.stop(hard=True)  # kill -9 while the RM is connected
        hold.set()
        with contextlib.suppress(aiohttp.ClientError, AssertionError, TimeoutError):
            await asyncio.wait_for(session, 20)

    first = Server(tmp_path / "data")
    first.request("PUT", "/api/v1/sites/home", site)
    asyncio.run(killed_mid_session(first))
    again = Server(tmp_path / "data")
    try:
        (device,) = again.request("GET", "/api/v1/sites/home").body["s2_devices"]
        assert (device["resource_id"], device["connected"]) == ("hot-water-9", False)
        assert device["fill_level"] == 44.0 and device["active_operation_modes"] == {"hp0": "om1"}
        instruction = asyncio.run(instructed(again, None))  # it reconnects: a new session
        assert (instruction["actuator_id"], instruction["operation_mode"]) == ("hp0", "om0")
    finally:
        again.stop()


def test_with_a_device_to_instruct_the_quick_plan_goes_first_and_a_cheaper_one_follows(
    server: Server,
) -> None:
    """An RM waits for the CEM: a site with an FRBC device is planned at once with hardly any
    search (its instructions go out), then with a search; the searched plan, cheaper, replaces
    it for the same revision."""
    server.request("PUT", "/api/v1/sites/home", rolling_site([0.2] * 24))

    async def session() -> list[dict[str, Any]]:
        async with frbc_connected(server, "hot-water-2") as rm:
            await describe_heat_pump(rm, heat_pump_now(fill_level=50.0, showers=False))
            await plan_when(server, lambda plan: "hot-water-2" in plan["devices"])
            listening = asyncio.create_task(events(server, "home", 3, 30, kinds={"plan"}))
            await asyncio.sleep(0.5)  # subscribed (the first event is the plan before)
            home = hard_home_now()
            revision = server.request("PUT", "/api/v1/sites/home", home).body["revision"]
            plans = await listening
            return [e for e in plans if e["revision"] == revision]

    quick, searched = asyncio.run(session())[:2]
    assert quick["plan"]["solver"]["proven_optimal"] is False
    assert (
        "hot-water-2" in quick["plan"]["devices"] and "hot-water-2" in searched["plan"]["devices"]
    )
    assert searched["plan"]["costs"]["total_eur"] < quick["plan"]["costs"]["total_eur"] - 1e-6
