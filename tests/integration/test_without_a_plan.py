"""Living without a fresh plan: "Apply plan" keeps the user's choice across restarts and
reloads, applied devices hold the last planned value until its step ends and then go to their
safe state, and re-planning by hand says when it cannot."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_restore_state_shutdown_restart,
    mock_restore_cache_with_extra_data,
)

from custom_components.flexems import coordinator as coordinator_module
from custom_components.flexems.const import (
    CONF_CONTROL_ENTITY,
    CONF_FALLBACK,
    CONF_TOKEN,
    CONF_URL,
    DOMAIN,
    FALLBACK_LEAVE,
    SUBENTRY_HEAT_PUMP,
)

from ..api.server import TOKEN, Server
from .conftest import (
    APPLY_SWITCH,
    SETPOINT,
    add_asset,
    battery_with_setpoint,
    entry_for,
    set_inputs,
    settle,
)
from .test_heat_pump import PUMP, THERMOSTAT, living_room_thermostat

SWITCH = APPLY_SWITCH


def setpoint(hass: HomeAssistant) -> float:
    return float(hass.states.get(SETPOINT).state)


async def at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime) -> None:
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await settle(hass)


def next_boundary(entry: MockConfigEntry) -> datetime:
    return datetime.fromisoformat(entry.runtime_data.coordinator.data["timestamps"][1])


async def test_restarted_with_the_add_on_away_applying_stays_on_and_resumes(
    hass: HomeAssistant, data_dir: Path, freezer: FrozenDateTimeFactory
) -> None:
    addon = Server(data_dir)
    try:
        entry = await battery_with_setpoint(hass, addon)
        assert hass.states.get(SWITCH).state == "on"
        port = addon.port
        addon.stop()
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await async_mock_restore_state_shutdown_restart(hass)  # HA stops and starts again
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        # Set up without a plan: the entities say so, the user's choice stands.
        assert entry.state is ConfigEntryState.LOADED
        assert hass.states.get("sensor.flexems_planner_plan_status").state == "unavailable"
        assert hass.states.get(SWITCH).state == "on"
        await hass.config_entries.async_reload(entry.entry_id)  # e.g. after an update
        await hass.async_block_till_done()
        assert hass.states.get(SWITCH).state == "on"
        addon = Server(data_dir, port=port)
        await entry.runtime_data.coordinator.async_replan()
        await settle(hass)
        planned = float(hass.states.get("sensor.battery_planned_power").state)
        assert setpoint(hass) == round(planned * 10) * 100  # applying resumed
    finally:
        addon.stop()


@pytest.mark.parametrize("change", ["options", "reauth", "reconfigure"])
async def test_reloads_keep_applying_on(hass: HomeAssistant, addon: Server, change: str) -> None:
    entry = await battery_with_setpoint(hass, addon)
    if change == "options":
        hass.config_entries.async_update_entry(entry, options={**entry.options, "peak_price": 1})
        await hass.config_entries.async_reload(entry.entry_id)
    else:
        flow = await (
            entry.start_reauth_flow(hass)
            if change == "reauth"
            else entry.start_reconfigure_flow(hass)
        )
        user_input = {CONF_TOKEN: TOKEN}
        if change == "reconfigure":
            user_input[CONF_URL] = addon.base
        result = await hass.config_entries.flow.async_configure(flow["flow_id"], user_input)
        assert result["reason"] == f"{change}_successful"
    await settle(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(SWITCH).state == "on"


async def test_the_stored_choice_wins_over_a_state_saved_as_unavailable(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_CONTROL_ENTITY: SETPOINT}
    )
    saved = {"asset": subentry.subentry_id, "applying": True, "paused_at": None, "own": 0.0}
    mock_restore_cache_with_extra_data(hass, [(State(SWITCH, "unavailable"), saved)])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == "on"


async def test_without_a_plan_the_battery_holds_its_step_then_idles(
    hass: HomeAssistant,
    data_dir: Path,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    addon = Server(data_dir, token=TOKEN)
    try:
        entry = await battery_with_setpoint(hass, addon)
        coordinator = entry.runtime_data.coordinator
        applied = setpoint(hass)
        assert applied != 0  # the seeded prices make the first hour a trading hour
        port = addon.port
        addon.stop()
        with pytest.raises(HomeAssistantError, match="Cannot reach the flexems add-on"):
            await coordinator.async_replan()
        await settle(hass)
        assert setpoint(hass) == applied  # held until the planned step ends
        assert hass.states.get(SWITCH).attributes["fallback_since"] is None
        boundary = next_boundary(entry)
        await at(hass, freezer, boundary + timedelta(seconds=2))
        assert setpoint(hass) == 0  # idle: the documented default for a battery
        switch = hass.states.get(SWITCH)
        assert switch.state == "on"  # still the user's choice; only the plan is missing
        assert switch.attributes["fallback"] == "idle"
        assert switch.attributes["fallback_since"] is not None
        await at(hass, freezer, boundary + timedelta(minutes=15, seconds=2))
        assert caplog.text.count("No current plan for battery: idling it") == 1  # logged once
        addon = Server(data_dir, port=port)
        await coordinator.async_replan()
        await settle(hass)
        assert hass.states.get(SWITCH).attributes["fallback_since"] is None
        planned = float(hass.states.get("sensor.battery_planned_power").state)
        assert setpoint(hass) == round(planned * 10) * 100
    finally:
        addon.stop()


async def test_a_plan_past_its_end_falls_back_too(
    hass: HomeAssistant,
    addon: Server,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No re-plan comes (nothing asks for one before the clock jumps): the old plan runs out.
    monkeypatch.setattr(coordinator_module, "SAFETY_INTERVAL", timedelta(days=7))
    entry = await battery_with_setpoint(hass, addon, **{CONF_FALLBACK: FALLBACK_LEAVE})
    coordinator = entry.runtime_data.coordinator
    end = datetime.fromisoformat(coordinator.data["end"])
    await at(hass, freezer, end + timedelta(seconds=2))
    assert not coordinator.plan_is_current(end + timedelta(seconds=2))
    switch = hass.states.get(SWITCH)
    assert switch.attributes["fallback"] == "leave"
    assert switch.attributes["fallback_since"] is not None


async def test_a_thermostat_gets_its_own_target_back_without_a_plan(
    hass: HomeAssistant, data_dir: Path, freezer: FrozenDateTimeFactory
) -> None:
    set_inputs(hass)
    await living_room_thermostat(hass, 18)
    addon = Server(data_dir)
    try:
        entry = entry_for(addon)
        entry.add_to_hass(hass)
        add_asset(
            hass, entry, SUBENTRY_HEAT_PUMP, "heat pump", {**PUMP, CONF_CONTROL_ENTITY: THERMOSTAT}
        )
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.heat_pump_apply_plan"}, blocking=True
        )
        await hass.async_block_till_done()
        assert hass.states.get(THERMOSTAT).attributes["temperature"] != 18  # flexems' target
        addon.stop()
        with pytest.raises(HomeAssistantError):
            await entry.runtime_data.coordinator.async_replan()
        await at(hass, freezer, next_boundary(entry) + timedelta(seconds=2))
        # The heat pump's default: back to the thermostat's own target from before flexems.
        assert hass.states.get(THERMOSTAT).attributes["temperature"] == 18
        assert hass.states.get("switch.heat_pump_apply_plan").attributes["fallback"] == (
            "own_control"
        )
    finally:
        addon.stop()


async def test_the_button_and_replan_say_when_no_plan_can_be_made(
    hass: HomeAssistant, data_dir: Path
) -> None:
    addon = Server(data_dir)
    try:
        entry = await battery_with_setpoint(hass, addon)
        port = addon.port
        plan = await hass.services.async_call(
            DOMAIN, "get_plan", {"config_entry": entry.entry_id}, blocking=True,
            return_response=True,
        )  # fmt: skip
        assert plan["stale"] is False and plan["age_s"] >= 0 and plan["planned_at"]
        addon.stop()
        with pytest.raises(HomeAssistantError, match="Cannot reach the flexems add-on"):
            await hass.services.async_call(
                DOMAIN, "replan", {"config_entry": entry.entry_id}, blocking=True
            )
        button = "button.flexems_planner_re_plan_now"
        assert hass.states.get(button).state != "unavailable"
        with pytest.raises(HomeAssistantError, match="Cannot reach the flexems add-on"):
            await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
        plan = await hass.services.async_call(
            DOMAIN, "get_plan", {"config_entry": entry.entry_id}, blocking=True,
            return_response=True,
        )  # fmt: skip
        assert plan["stale"] is True  # the old plan, said to be old
        addon = Server(data_dir, port=port)
        await hass.services.async_call("button", "press", {"entity_id": button}, blocking=True)
        assert hass.states.get("sensor.flexems_planner_plan_status").state == "optimal"
    finally:
        addon.stop()
