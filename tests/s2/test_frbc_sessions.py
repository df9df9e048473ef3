"""FRBC devices over real WebSockets to the real service: what they say is checked against their
own description, they join the site's plan, and each new plan reaches them as instructions
(revoking the superseded ones); their instruction statuses are tracked."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from flexems_optimizer.s2 import examples
from flexems_optimizer.s2.frbc import KEYS

from ..api.server import TOKEN, Server
from .test_sessions import RM

FRBC = "FILL_RATE_BASED_CONTROL"
STEP_S = 900


class FrbcRM(RM):
    """An RM that keeps what the CEM sends besides ReceptionStatus (instructions, revocations)
    for the test to read in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__(ws)
        self.unsolicited: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def status_of(self, subject: str) -> dict[str, Any]:
        while True:
            message = await self.receive()
            if message["message_type"] != "ReceptionStatus":
                await self.unsolicited.put(message)
                continue
            assert message["subject_message_id"] == subject
            return message

    async def next_of(self, *kinds: str, timeout_s: float = 20) -> dict[str, Any]:
        """The next unsolicited message of one of `kinds` (others are skipped)."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            try:
                message = self.unsolicited.get_nowait()
            except asyncio.QueueEmpty:
                message = await self.receive(timeout_s=max(left, 0.01))
            if message["message_type"] in kinds:
                return message
            assert message["message_type"] != "ReceptionStatus", message

    async def tell(self, message_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """Send one of the example's messages (its own message id replaced) and its status."""
        fields = {k: v for k, v in body.items() if k not in ("message_id", "message_type")}
        return await self.status_of(await self.send(message_type, **fields))


@asynccontextmanager
async def frbc_connected(
    server: Server,
    resource_id: str,
    control_types: tuple[str, ...] | list[str] = (FRBC, "NOT_CONTROLABLE"),
    expect: str = FRBC,
) -> AsyncIterator[FrbcRM]:
    """An RM connected, past its handshake and details, with `expect` selected."""
    url = f"ws://127.0.0.1:{server.port}/api/v1/s2"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        rm = FrbcRM(ws)
        assert (await rm.receive())["message_type"] == "Handshake"
        await rm.handshake()
        select = await rm.describe(resource_id, available_control_types=list(control_types),
                                   instruction_processing_delay=10_000)  # fmt: skip
        assert select["control_type"] == expect
        yield rm


KINDS = {key: kind for kind, key in KEYS.items()}  # flex-model key → message type


async def describe_heat_pump(rm: FrbcRM, messages: dict[str, Any]) -> None:
    for key in ("system-description", "storage-status", "leakage-behaviour", "usage-forecast",
                "actuator-statuses", "timer-statuses"):  # fmt: skip
        items = messages.get(key, [])
        for body in items if isinstance(items, list) else [items]:
            status = await rm.tell(KINDS[key], body)
            assert status["status"] == "OK", status


def rolling_site(prices: list[float]) -> dict[str, Any]:
    """A home planned from the current step on, with a price per quarter hour from now."""
    step_start = datetime.fromtimestamp(time.time() // STEP_S * STEP_S, UTC)
    return {
        "duration": "PT6H", "resolution": "PT15M",
        "flex-context": {"consumption-price": {"start": step_start.isoformat(),
                                               "resolution": "PT15M", "values": prices}},
        "flex-model": [],
    }  # fmt: skip


def heat_pump_now(**kwargs: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return examples.heat_pump(now - timedelta(days=1), **kwargs)


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
                                     status_type="ACCEPTED", timestamp=_now())  # fmt: skip
            assert (await rm.status_of(accepted))["status"] == "OK"
            by_message = await rm.send("InstructionStatusUpdate",
                                       instruction_id=first["message_id"],
                                       status_type="NEW", timestamp=_now())  # fmt: skip
            assert (await rm.status_of(by_message))["status"] == "OK"
            device = await _device(server, "hot-water-1", lambda d: d["instructions"])
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
                                      "finished_at": _now()}, "egg-timer"),
                ("FRBC.Instruction", {"id": "i-1", "actuator_id": "hp0", "operation_mode": "om0",
                                      "operation_mode_factor": 0.5, "execution_time": _now(),
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
            await _planned(server, lambda plan: "hot-water-3" in plan["devices"])
            sent = await rm.send(
                "FRBC.SystemDescription",
                **{k: v for k, v in messages["system-description"].items() if k != "message_id"},
            )
            assert (await rm.status_of(sent))["status"] == "OK"
            revoke = await rm.send("RevokeObject", object_type="FRBC.SystemDescription",
                                   object_id=sent)  # fmt: skip
            assert (await rm.status_of(revoke))["status"] == "OK"
            await _planned(server, lambda plan: "hot-water-3" not in plan["devices"])

    asyncio.run(session())


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def _device(server: Server, resource_id: str, ready: Any) -> dict[str, Any]:
    for _ in range(200):
        devices = server.request("GET", "/api/v1/sites/home").body["s2_devices"]
        found = next((d for d in devices if d["resource_id"] == resource_id), None)
        if found is not None and ready(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{resource_id} never got there")


async def _planned(server: Server, ready: Any) -> dict[str, Any]:
    for _ in range(400):
        answer = server.request("GET", "/api/v1/sites/home/plan")
        if answer.status == 200 and ready(answer.body["plan"]):
            plan: dict[str, Any] = answer.body["plan"]
            return plan
        await asyncio.sleep(0.05)
    raise AssertionError("no such plan came")


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
        await _device(server, "hot-water-9", lambda d: d["instructions"])
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
