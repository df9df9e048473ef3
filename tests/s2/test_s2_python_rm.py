"""A whole session with `s2-python`'s own Resource Manager side (its WebsocketClientMedium with
a bearer token): the library that most S2 devices in Python use must work with flexems as is."""

from __future__ import annotations

import asyncio
import datetime
import uuid

from s2python.common import (
    Commodity,
    CommodityQuantity,
    Duration,
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
    NoControlControlType,
    ResourceManagerHandler,
)
from s2python.connection.async_.medium.websocket import WebsocketClientMedium

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
