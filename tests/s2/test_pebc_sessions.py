"""PEBC devices over real WebSockets to the real service: a curtailable PV inverter joins the
site's plan and gets power envelopes that hold its production back while exporting costs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from ..api.server import Server
from .peers import (
    ELECTRIC,
    PEBC,
    constraints,
    device_when,
    frbc_connected,
    pv_session,
    rolling_site,
    step_start,
)


def test_pv_is_held_back_by_an_envelope_while_exporting_costs(server: Server) -> None:
    # Exporting costs for the first hour (negative prices), then pays.
    server.request("PUT", "/api/v1/sites/home", rolling_site([-0.05] * 4 + [0.2] * 32))

    async def session() -> None:
        async with frbc_connected(server, "pv-1", control_types=[PEBC, "NOT_CONTROLABLE"],
                                  expect=PEBC) as rm:  # fmt: skip
            await pv_session(rm)
            instruction = await rm.next_of("PEBC.Instruction")
            assert instruction["power_constraints_id"] == "pv-limits"
            (envelope,) = instruction["power_envelopes"]
            assert envelope["commodity_quantity"] == ELECTRIC
            first, *later = envelope["power_envelope_elements"]
            # Nothing produced while it costs: the lower limit raised to 0 W ...
            assert first["lower_limit"] == pytest.approx(0.0)
            assert first["upper_limit"] == pytest.approx(0.0)
            # ... then the loosest envelope allowed: it produces what it can.
            assert later and later[0]["lower_limit"] == pytest.approx(-5000.0)
            ends = datetime.fromisoformat(instruction["execution_time"]) + timedelta(
                milliseconds=first["duration"]
            )
            assert ends.timestamp() == pytest.approx(step_start().timestamp() + 3600, abs=1)
            accepted = await rm.send("InstructionStatusUpdate", instruction_id=instruction["id"],
                                     status_type="ACCEPTED",
                                     timestamp=datetime.now(UTC).isoformat())  # fmt: skip
            assert (await rm.status_of(accepted))["status"] == "OK"
            device = await device_when(server, "pv-1", lambda d: d["instructions"])
            assert device["instructions"][0]["status"] == "ACCEPTED"
            plan = server.request("GET", "/api/v1/sites/home/plan").body["plan"]
            part = plan["devices"]["pv-1"]
            assert part["control_type"] == PEBC and part["power_kw"][:4] == [0.0] * 4
            assert part["forecast_kw"][:4] == pytest.approx([-4.0] * 4)
            assert plan["site"]["export_kw"][:4] == [0.0] * 4

    asyncio.run(session())


def test_what_a_pebc_device_says_must_make_sense_and_can_be_revoked(server: Server) -> None:
    async def session() -> None:
        async with frbc_connected(server, "pv-2", control_types=[PEBC], expect=PEBC) as rm:
            backwards = constraints(valid_until=(step_start() - timedelta(hours=1)).isoformat())
            status = await rm.tell("PEBC.PowerConstraints", backwards)
            assert status["status"] == "INVALID_CONTENT" and "valid_until" in status[
                "diagnostic_label"]  # fmt: skip
            await pv_session(rm)
            gone = await rm.send("RevokeObject", object_type="PEBC.PowerConstraints",
                                 object_id="pv-limits")  # fmt: skip
            assert (await rm.status_of(gone))["status"] == "OK"
            again = await rm.send("RevokeObject", object_type="PEBC.PowerConstraints",
                                  object_id="pv-limits")  # fmt: skip
            assert (await rm.status_of(again))["status"] == "INVALID_CONTENT"

    asyncio.run(session())
