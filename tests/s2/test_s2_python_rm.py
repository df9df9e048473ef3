"""A whole session with `s2-python`'s own Resource Manager side (its WebsocketClientMedium with
a bearer token): the library that most S2 devices in Python use must work with flexems as is."""

from __future__ import annotations

import asyncio
import datetime
import json
import uuid
from typing import Any

from s2python.common import (
    Commodity,
    CommodityQuantity,
    Duration,
    InstructionStatus,
    InstructionStatusUpdate,
    PowerForecast,
    PowerForecastElement,
    PowerForecastValue,
    ReceptionStatusValues,
    Role,
    RoleType,
)
from s2python.connection.asset_details import AssetDetails
from s2python.connection.async_.connection import S2AsyncConnection
from s2python.connection.async_.control_type.class_based import (
    FRBCControlType,
    NoControlControlType,
    ResourceManagerHandler,
)
from s2python.connection.async_.medium.websocket import WebsocketClientMedium
from s2python.connection.types import SendOkayRunAsync
from s2python.frbc import (
    FRBCActuatorStatus,
    FRBCInstruction,
    FRBCLeakageBehaviour,
    FRBCStorageStatus,
    FRBCSystemDescription,
    FRBCUsageForecast,
)

from flexems_optimizer.s2 import examples

from ..api.server import TOKEN, Server
from ..optimizer.problems import battery, problem


class Meter(NoControlControlType):
    """A device flexems cannot control: it tells its power forecast once it is active."""

    def __init__(self) -> None:
        self.active = asyncio.Event()

    async def activate(self, connection: S2AsyncConnection) -> None:
        self.active.set()

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        self.active.clear()


def test_s2_python_rm_sessions_work_as_they_are(server: Server) -> None:
    resource = uuid.uuid4()

    async def session() -> ReceptionStatusValues:
        meter = Meter()
        details = AssetDetails(
            resource_id=resource, provides_forecast=True,
            provides_power_measurements=[CommodityQuantity.ELECTRIC_POWER_3_PHASE_SYMMETRIC],
            instruction_processing_delay=Duration(1000),
            roles=[Role(role=RoleType.ENERGY_CONSUMER, commodity=Commodity.ELECTRICITY)],
            name="meter",
        )  # fmt: skip
        url = f"ws://127.0.0.1:{server.port}/api/v1/s2"
        async with WebsocketClientMedium(url, bearer_token=TOKEN) as medium:
            connection = S2AsyncConnection(medium)
            ResourceManagerHandler([meter], details).register_handlers(connection)
            running = asyncio.create_task(connection.run())
            await asyncio.wait_for(meter.active.wait(), 10)
            forecast = PowerForecast(
                message_id=uuid.uuid4(),
                start_time=datetime.datetime.now(datetime.UTC),
                elements=[PowerForecastElement(
                    duration=Duration(3_600_000),
                    power_values=[PowerForecastValue(
                        value_expected=1500.0,
                        commodity_quantity=CommodityQuantity.ELECTRIC_POWER_3_PHASE_SYMMETRIC)],
                )],
            )  # fmt: skip
            status = await connection.send_msg_and_await_reception_status(forecast)
            await connection.stop()
            await asyncio.wait_for(running, 10)
            return status.status

    home = problem(4, prices=0.3, devices=[battery(soc_at_start=0, soc_max=1, power_capacity=1)])
    server.request("PUT", "/api/v1/sites/home", home)
    assert asyncio.run(session()) is ReceptionStatusValues.OK
    # Known under the service token's site, by the UUID s2-python gave it, with its forecast.
    (device,) = server.request("GET", "/api/v1/sites/home").body["s2_devices"]
    assert device["resource_id"] == str(resource)
    assert device["control_type"] == "NOT_CONTROLABLE"
    assert device["forecast"]["elements"][0]["duration"] == 3_600_000


class HotWater(FRBCControlType):
    """An FRBC heat pump on s2-python's own classes (UUID ids, its own validation): it
    describes itself once active and keeps the instructions it gets."""

    def __init__(self, messages: dict[str, Any]) -> None:
        self.messages = messages
        self.active = asyncio.Event()
        self.instructions: asyncio.Queue[FRBCInstruction] = asyncio.Queue()

    async def activate(self, connection: S2AsyncConnection) -> None:
        self.active.set()

    async def deactivate(self, connection: S2AsyncConnection) -> None:
        self.active.clear()

    async def handle_instruction(
        self, connection: S2AsyncConnection, msg: Any, send_okay: SendOkayRunAsync
    ) -> None:
        assert isinstance(msg, FRBCInstruction) and send_okay is not None
        await send_okay()
        await self.instructions.put(msg)


def _with_uuids(messages: dict[str, Any]) -> dict[str, Any]:
    """The example's ids ("hp0", "om0", "min-run", ...) as the UUIDs s2-python demands."""
    text = json.dumps(messages)
    for name in ("hp0", "om0", "om1", "tr-start", "tr-stop", "min-run", "min-off"):
        text = text.replace(f'"{name}"', f'"{uuid.uuid5(uuid.NAMESPACE_URL, name)}"')
    found = json.loads(text)
    for value in found.values():
        for item in value if isinstance(value, list) else [value]:
            item["message_id"] = str(uuid.uuid4())
    return found


def test_an_s2_python_frbc_rm_gets_instructions_it_accepts(server: Server) -> None:
    resource = uuid.uuid4()
    now = datetime.datetime.now(datetime.UTC)
    messages = _with_uuids(examples.heat_pump(now - datetime.timedelta(days=1), fill_level=44.0))
    kinds = [
        (FRBCSystemDescription, "system-description"),
        (FRBCStorageStatus, "storage-status"),
        (FRBCLeakageBehaviour, "leakage-behaviour"),
        (FRBCUsageForecast, "usage-forecast"),
    ]

    async def session() -> tuple[FRBCInstruction, ReceptionStatusValues]:
        pump = HotWater(messages)
        details = AssetDetails(
            resource_id=resource, provides_forecast=False,
            provides_power_measurements=[CommodityQuantity.ELECTRIC_POWER_3_PHASE_SYMMETRIC],
            instruction_processing_delay=Duration(1000),
            roles=[Role(role=RoleType.ENERGY_CONSUMER, commodity=Commodity.ELECTRICITY)],
            name="hot water",
        )  # fmt: skip
        url = f"ws://127.0.0.1:{server.port}/api/v1/s2"
        async with WebsocketClientMedium(url, bearer_token=TOKEN) as medium:
            connection = S2AsyncConnection(medium)
            ResourceManagerHandler([pump], details).register_handlers(connection)
            running = asyncio.create_task(connection.run())
            await asyncio.wait_for(pump.active.wait(), 10)
            for model, key in kinds:
                status = await connection.send_msg_and_await_reception_status(
                    model.model_validate(messages[key])
                )
                assert status.status is ReceptionStatusValues.OK, (key, status)
            actuator = FRBCActuatorStatus.model_validate(messages["actuator-statuses"][0])
            await connection.send_msg_and_await_reception_status(actuator)
            instruction = await asyncio.wait_for(pump.instructions.get(), 30)
            update = InstructionStatusUpdate(
                message_id=uuid.uuid4(), instruction_id=instruction.id,
                status_type=InstructionStatus.ACCEPTED,
                timestamp=datetime.datetime.now(datetime.UTC),
            )  # fmt: skip
            accepted = await connection.send_msg_and_await_reception_status(update)
            await connection.stop()
            await asyncio.wait_for(running, 10)
            return instruction, accepted.status

    step = datetime.datetime.fromtimestamp(now.timestamp() // 900 * 900, datetime.UTC)
    site = {"duration": "PT4H", "resolution": "PT15M", "flex-model": [], "flex-context": {
        "consumption-price": {"start": step.isoformat(), "resolution": "PT1H",
                              "values": [0.3] * 6}}}  # fmt: skip
    server.request("PUT", "/api/v1/sites/home", site)
    instruction, accepted = asyncio.run(session())
    # Below its range: heat at once, in its own ids, after its processing delay.
    assert str(instruction.operation_mode) == messages["system-description"]["actuators"][0][
        "operation_modes"][0]["id"]  # fmt: skip
    assert instruction.execution_time >= now + datetime.timedelta(seconds=1)
    assert accepted is ReceptionStatusValues.OK
    device = next(d for d in server.request("GET", "/api/v1/sites/home").body["s2_devices"]
                  if d["resource_id"] == str(resource))  # fmt: skip
    statuses = {i["id"]: i["status"] for i in device["instructions"]}
    assert statuses[str(instruction.id)] == "ACCEPTED"  # the later ones: sent, not yet answered
