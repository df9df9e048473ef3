"""All control types at once with the home's own battery: one plan of the site holds every
asset, its balance adds up, and each instructed device gets its instructions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ..api.server import Server
from .peers import (
    PEBC,
    describe_heat_pump,
    forecast,
    frbc_connected,
    heat_pump_now,
    plan_when,
    pv_session,
    rolling_site,
)


def test_a_heat_pump_a_pv_inverter_and_a_meter_share_one_plan_with_the_battery(
    server: Server,
) -> None:
    site = rolling_site([-0.05] * 4 + [0.25] * 32)
    site["flex-model"] = [{"name": "battery", "soc-at-start": 5, "soc-max": 10,
                           "power-capacity": 3}]  # fmt: skip
    server.request("PUT", "/api/v1/sites/home", site)

    async def together() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with (
            frbc_connected(server, "hot-water-7") as pump,
            frbc_connected(server, "pv-7", control_types=[PEBC], expect=PEBC) as pv,
            frbc_connected(server, "meter-7", control_types=["NOT_CONTROLABLE"],
                           expect="NOT_CONTROLABLE") as meter,
        ):  # fmt: skip
            await describe_heat_pump(pump, heat_pump_now(fill_level=44.0))
            await pv_session(pv)
            assert (await meter.tell("PowerForecast", forecast(1000.0)))["status"] == "OK"
            plan = await plan_when(server, lambda p: {"hot-water-7", "pv-7", "meter-7",
                                                     "battery"} <= set(p["devices"]))  # fmt: skip
            return (
                plan,
                await pump.next_of("FRBC.Instruction"),
                await pv.next_of("PEBC.Instruction"),
            )

    plan, heat, envelope = asyncio.run(together())
    devices = plan["devices"]
    total = [sum(d["power_kw"][i] for d in devices.values()) for i in range(4)]
    assert plan["site"]["net_power_kw"][:4] == pytest.approx(total, abs=1e-5)
    assert devices["meter-7"]["power_kw"][:4] == pytest.approx([1.0] * 4)
    assert heat["operation_mode"] == "om0"  # too cold: heat
    # While exporting costs, the PV is held back (the heat pump and the meter use some of it).
    assert devices["pv-7"]["power_kw"][0] > -4.0
    assert envelope["power_envelopes"][0]["power_envelope_elements"][0]["lower_limit"] > -4000
