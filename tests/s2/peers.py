"""Resource Managers for the tests: a raw-JSON RM that checks everything the CEM sends against
the S2 schemas, one that keeps unsolicited messages (instructions, revocations) apart, and
the example devices' sessions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from flexems_optimizer.s2 import examples
from flexems_optimizer.s2.frbc import KEYS
from flexems_optimizer.samples import hard_home

from ..api.server import STEP_S, TOKEN, Server
from .schemas import validate


class RM:
    """A Resource Manager speaking raw JSON; checks what the CEM sends against the schemas."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.count = 0

    async def receive(self, timeout_s: float = 10) -> dict[str, Any]:
        message = await self.ws.receive(timeout=timeout_s)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        body: dict[str, Any] = message.json()
        validate(body)
        return body

    async def send(self, message_type: str, **fields: Any) -> str:
        self.count += 1
        message_id = f"rm{self.count}"  # short ids as the schema allows: no UUIDs needed
        await self.ws.send_json({"message_type": message_type, "message_id": message_id, **fields})
        return message_id

    async def status_of(self, subject: str) -> dict[str, Any]:
        status = await self.receive()
        assert status["message_type"] == "ReceptionStatus", status
        assert status["subject_message_id"] == subject
        return status

    async def handshake(self, versions: tuple[str, ...] = ("0.0.2-beta",)) -> dict[str, Any]:
        sent = await self.send("Handshake", role="RM", supported_protocol_versions=list(versions))
        assert (await self.status_of(sent))["status"] == "OK"
        return await self.receive()

    async def describe(self, resource_id: str = "meter-1", **fields: Any) -> dict[str, Any]:
        details = {
            "resource_id": resource_id, "name": "heat meter", "roles": [
                {"role": "ENERGY_CONSUMER", "commodity": "ELECTRICITY"}],
            "instruction_processing_delay": 1000,
            "available_control_types": ["NOT_CONTROLABLE"],
            "provides_forecast": True,
            "provides_power_measurement_types": ["ELECTRIC.POWER.3_PHASE_SYMMETRIC"],
            **fields,
        }  # fmt: skip
        sent = await self.send("ResourceManagerDetails", **details)
        assert (await self.status_of(sent))["status"] == "OK"
        return await self.receive()


@asynccontextmanager
async def connected(server: Server, token: str = TOKEN) -> AsyncIterator[RM]:
    url = f"ws://127.0.0.1:{server.port}/api/v1/s2"
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        rm = RM(ws)
        first = await rm.receive()  # the CEM speaks first
        assert first["message_type"] == "Handshake" and first["role"] == "CEM"
        assert first["supported_protocol_versions"] == ["0.0.2-beta"]
        yield rm


FRBC = "FILL_RATE_BASED_CONTROL"


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


PEBC = "POWER_ENVELOPE_BASED_CONTROL"
ELECTRIC = "ELECTRIC.POWER.3_PHASE_SYMMETRIC"


def step_start() -> datetime:
    return datetime.fromtimestamp(time.time() // STEP_S * STEP_S, UTC)


def forecast(watts: float, hours: int = 8) -> dict[str, Any]:
    return {"start_time": step_start().isoformat(), "elements": [
        {"duration": 3_600_000, "power_values": [
            {"commodity_quantity": ELECTRIC, "value_expected": watts}]}] * hours}  # fmt: skip


def constraints(**changes: Any) -> dict[str, Any]:
    return {
        "id": "pv-limits", "valid_from": step_start().isoformat(), "consequence_type": "VANISH",
        "allowed_limit_ranges": [
            {"commodity_quantity": ELECTRIC, "limit_type": "LOWER_LIMIT",
             "range_boundary": {"start_of_range": -5000.0, "end_of_range": 0.0},
             "abnormal_condition_only": False},
            {"commodity_quantity": ELECTRIC, "limit_type": "UPPER_LIMIT",
             "range_boundary": {"start_of_range": 0.0, "end_of_range": 0.0},
             "abnormal_condition_only": False},
        ], **changes,
    }  # fmt: skip


async def pv_session(rm: FrbcRM) -> None:
    assert (await rm.tell("PowerForecast", forecast(-4000.0)))["status"] == "OK"
    assert (await rm.tell("PEBC.PowerConstraints", constraints()))["status"] == "OK"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


async def device_when(server: Server, resource_id: str, ready: Any) -> dict[str, Any]:
    for _ in range(200):
        devices = server.request("GET", "/api/v1/sites/home").body["s2_devices"]
        found = next((d for d in devices if d["resource_id"] == resource_id), None)
        if found is not None and ready(found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{resource_id} never got there")


async def plan_when(server: Server, ready: Any) -> dict[str, Any]:
    for _ in range(400):
        answer = server.request("GET", "/api/v1/sites/home/plan")
        if answer.status == 200 and ready(answer.body["plan"]):
            plan: dict[str, Any] = answer.body["plan"]
            return plan
        await asyncio.sleep(0.05)
    raise AssertionError("no such plan came")


def hard_home_now(steps: int = 96, seed: int = 1) -> dict[str, Any]:
    """The hard sample home (on/off heat pump with run rules, an EV with a minimum power, a
    peak price) moved to start at the current step: its warm start is not its best plan."""
    body = hard_home(steps, seed)
    delta = step_start() - datetime.fromisoformat(body["start"])

    def moved(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: moved(item) for key, item in value.items()}
        if isinstance(value, list):
            return [moved(item) for item in value]
        if isinstance(value, str) and value[:4].isdigit() and "T" in value:
            return (datetime.fromisoformat(value) + delta).isoformat()
        return value

    moved_body: dict[str, Any] = moved(body)
    return moved_body
