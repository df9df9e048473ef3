"""Applying the plan to a battery's power setpoint, and pausing when the user takes over."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.flexems.const import DOMAIN
from custom_components.flexems.controls import setpoint

from ..api.server import Server
from .conftest import APPLY_SWITCH, SETPOINT, battery_with_setpoint

SWITCH = APPLY_SWITCH


async def with_control(hass: HomeAssistant, addon: Server) -> MockConfigEntry:
    return await battery_with_setpoint(hass, addon, turn_on=False)


def planned_watts(hass: HomeAssistant) -> float:
    return round(float(hass.states.get("sensor.battery_planned_power").state) * 10) * 100


async def test_turning_on_sets_the_planned_power_and_a_hand_change_pauses(
    hass: HomeAssistant, addon: Server, caplog: pytest.LogCaptureFixture
) -> None:
    await with_control(hass, addon)
    assert hass.states.get(SWITCH).state == "off"
    await hass.services.async_call("switch", "turn_on", {"entity_id": SWITCH}, blocking=True)
    await hass.async_block_till_done()
    assert float(hass.states.get(SETPOINT).state) == planned_watts(hass)
    assert hass.states.get(SWITCH).attributes["last_applied"] == planned_watts(hass)
    await hass.services.async_call(
        "input_number", "set_value", {"entity_id": SETPOINT, "value": 1200}, blocking=True
    )
    await hass.async_block_till_done()
    switch = hass.states.get(SWITCH)
    assert switch.state == "off"
    assert switch.attributes["paused_by_user_at"] is not None
    assert "changed by hand" in caplog.text
    assert float(hass.states.get(SETPOINT).state) == 1200


async def test_each_step_boundary_applies_the_next_value(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    entry = await with_control(hass, addon)
    await hass.services.async_call("switch", "turn_on", {"entity_id": SWITCH}, blocking=True)
    await hass.async_block_till_done()
    plan = entry.runtime_data.coordinator.data
    boundary = datetime.fromisoformat(plan["timestamps"][1])
    freezer.move_to(boundary + timedelta(seconds=2))
    async_fire_time_changed(hass, boundary + timedelta(seconds=2))
    await hass.async_block_till_done()
    expected = setpoint(
        plan["devices"]["battery"]["power_kw"][1],
        {"unit_of_measurement": "W", "min": -5000, "max": 5000, "step": 100},
    )
    assert float(hass.states.get(SETPOINT).state) == expected
    # At the first step whose planned power differs, the power shown is the new step's too,
    # before any new plan comes (it kept the step before's until the next plan).
    power = plan["devices"]["battery"]["power_kw"]
    change = next(i for i in range(1, len(power)) if power[i] != power[i - 1])
    moment = datetime.fromisoformat(plan["timestamps"][change]) + timedelta(seconds=2)
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.data is plan
    shown = float(hass.states.get("sensor.battery_planned_power").state)
    assert shown == pytest.approx(power[change])
    await hass.services.async_call(
        DOMAIN, "replan", {"config_entry": entry.entry_id}, blocking=True
    )
    await hass.services.async_call("switch", "turn_off", {"entity_id": SWITCH}, blocking=True)
    assert hass.states.get(SWITCH).state == "off"


def test_setpoints_respect_unit_step_and_limits() -> None:
    watts = {"unit_of_measurement": "W", "min": -3000, "max": 3000, "step": 100}
    assert setpoint(1.234, watts) == 1200
    assert setpoint(-4.5, watts) == -3000
    assert setpoint(2.26, {"unit_of_measurement": "kW", "min": 0, "max": 5, "step": 0.5}) == 2.5
    assert setpoint(-1.0, {"unit_of_measurement": "kW", "min": 0, "max": 5}) == 0
