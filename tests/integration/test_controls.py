"""Applying plans through other control kinds: a battery's mode select, a heat pump's
thermostat (a real generic_thermostat) and a hot-water heat pump's switch."""

from __future__ import annotations

import pytest
from homeassistant import config_entries
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component

from custom_components.flexems.const import (
    CONF_CHARGE_OPTION,
    CONF_CONTROL_ENTITY,
    CONF_COP,
    CONF_DISCHARGE_OPTION,
    CONF_HEATS,
    CONF_HOT_WATER_KWH_PER_DAY,
    CONF_IDLE_OPTION,
    CONF_POWER_KW,
    CONF_SETPOINT_SIGN,
    CONF_TANK_ENTITY,
    CONF_TANK_LITRES,
    CONF_TANK_LOSS_W_PER_K,
    CONF_TANK_MAX,
    CONF_TANK_MIN,
    CONF_TANK_TARGET,
    CONF_TANK_TARGET_TIME,
    SUBENTRY_HEAT_PUMP,
)
from custom_components.flexems.controls import command

from ..api.server import Server
from .conftest import add_asset, entry_for, set_inputs
from .test_heat_pump import PUMP, THERMOSTAT, living_room_thermostat

TANK = "sensor.hot_water_temperature"
BUFFER = {
    CONF_POWER_KW: 2, CONF_COP: 2.5, CONF_TANK_ENTITY: TANK, CONF_TANK_LITRES: 200,
    CONF_TANK_MIN: 45, CONF_TANK_MAX: 60, CONF_TANK_TARGET: 55, CONF_TANK_TARGET_TIME: "07:00:00",
    CONF_TANK_LOSS_W_PER_K: 2.0, CONF_HOT_WATER_KWH_PER_DAY: 5.0,
}  # fmt: skip


async def turn_on(hass: HomeAssistant, switch: str) -> None:
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    await hass.async_block_till_done()


async def test_a_battery_mode_select_follows_the_plan(hass: HomeAssistant, addon: Server) -> None:
    assert await async_setup_component(
        hass, "input_select",
        {"input_select": {"battery_mode": {"options": ["Charge", "Discharge", "Standby"]}}},
    )  # fmt: skip
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry,
        data={**subentry.data, CONF_CONTROL_ENTITY: "input_select.battery_mode",
              CONF_CHARGE_OPTION: "Charge", CONF_DISCHARGE_OPTION: "Discharge",
              CONF_IDLE_OPTION: "Standby"},
    )  # fmt: skip
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await turn_on(hass, "switch.battery_apply_plan")
    planned = float(hass.states.get("sensor.battery_planned_power").state)
    expected = "Charge" if planned > 0.01 else "Discharge" if planned < -0.01 else "Standby"
    assert hass.states.get("input_select.battery_mode").state == expected
    assert planned != 0  # the seeded prices make the first hour a trading hour


async def test_the_battery_subentry_checks_select_options(
    hass: HomeAssistant, addon: Server
) -> None:
    assert await async_setup_component(
        hass, "input_select", {"input_select": {"battery_mode": {"options": ["Charge", "Idle"]}}}
    )
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "battery"), context={"source": config_entries.SOURCE_USER}
    )
    fields = {"name": "shed battery", "soc_entity": "sensor.home_battery_soc",
              "capacity_kwh": 5, "power_kw": 2, "roundtrip_efficiency": 90,
              CONF_CONTROL_ENTITY: "input_select.battery_mode"}  # fmt: skip
    configure = hass.config_entries.subentries.async_configure
    result = await configure(result["flow_id"], {**fields, CONF_CHARGE_OPTION: "Charge"})
    assert result["errors"] == {CONF_IDLE_OPTION: "option_needed"}
    result = await configure(
        result["flow_id"],
        {**fields, CONF_CHARGE_OPTION: "Charge", CONF_IDLE_OPTION: "Idle",
         CONF_DISCHARGE_OPTION: "Feed in"},
    )  # fmt: skip
    assert result["errors"] == {CONF_DISCHARGE_OPTION: "not_an_option"}
    assert await async_setup_component(
        hass, "input_select",
        {"input_select": {"shed_mode": {"options": ["Charge", "Idle", "Feed in"]}}},
    )  # fmt: skip
    result = await configure(
        result["flow_id"],
        {**fields, CONF_CONTROL_ENTITY: "input_select.shed_mode", CONF_CHARGE_OPTION: "Charge",
         CONF_IDLE_OPTION: "Idle", CONF_DISCHARGE_OPTION: "Feed in"},
    )  # fmt: skip
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DISCHARGE_OPTION] == "Feed in"


async def test_a_thermostat_gets_the_planned_temperature(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    await living_room_thermostat(hass, 20)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    add_asset(
        hass,
        entry,
        SUBENTRY_HEAT_PUMP,
        "heat pump",
        {**PUMP, CONF_CONTROL_ENTITY: THERMOSTAT},
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await turn_on(hass, "switch.heat_pump_apply_plan")
    plan = entry.runtime_data.coordinator.data
    planned = plan["devices"]["heat pump building"]["temperature_c"][0]
    target = hass.states.get(THERMOSTAT).attributes["temperature"]
    assert target == pytest.approx(round(planned * 2) / 2)  # on the thermostat's 0.5 K steps


async def test_a_hot_water_buffer_is_planned_and_switched(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    hass.states.async_set(TANK, "50", {"unit_of_measurement": "°C"})
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"boiler": {}}})
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_HEAT_PUMP), context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "buffer"}
    )
    configure = hass.config_entries.subentries.async_configure
    fields = {"name": "hot water", **BUFFER, CONF_CONTROL_ENTITY: "input_boolean.boiler"}
    result = await configure(result["flow_id"], {**fields, CONF_TANK_MIN: 65})
    assert result["errors"] == {CONF_TANK_MIN: "tank_band"}
    result = await configure(result["flow_id"], {**fields, CONF_TANK_TARGET: 70})
    assert result["errors"] == {CONF_TANK_TARGET: "tank_target"}
    result = await configure(result["flow_id"], fields)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    added = next(e for e in entry.subentries.values() if e.title == "hot water")
    assert added.data[CONF_HEATS] == "buffer"
    plan = entry.runtime_data.coordinator.data
    tank = plan["devices"]["hot water buffer"]["temperature_c"]
    assert min(tank) >= 45 - 1e-6 and max(tank) <= 60 + 1e-6
    # At least 55 °C at 07:00, not exactly: heated 5 K a step, it overshoots, and that is no
    # breach (as an exact target it was one, every day, and a repair issue).
    [buffer] = [d for d in entry.runtime_data.coordinator.problem["flex-model"]
                if d["name"] == "hot water buffer"]  # fmt: skip
    [at] = [i for i, value in enumerate(buffer["comfort-min"]["values"]) if value is not None]
    assert tank[at] >= 55 - 1e-6
    assert not [b for b in plan["breaches"] if b["device"] == "hot water buffer"]
    assert sum(plan["devices"]["hot water"]["power_kw"]) > 0  # 5 kWh a day is drawn
    assert float(hass.states.get("sensor.hot_water_planned_temperature").state) == pytest.approx(
        tank[0]
    )
    await turn_on(hass, "switch.hot_water_apply_plan")
    # The plan in force now (a trigger may have re-planned since): a switch runs it at full
    # power or not at all, so the plan holds only 0 or 2 kW.
    now = entry.runtime_data.coordinator.data["devices"]["hot water"]["power_kw"]
    assert set(now) <= {0.0, 2.0}
    assert hass.states.get("input_boolean.boiler").state == ("on" if now[0] > 0.01 else "off")


def test_setpoint_sign_and_a_climate_without_a_building() -> None:
    state = State("number.inverter", "0", {"unit_of_measurement": "kW", "min": -5, "max": 5})
    charge = command(
        "number.inverter", state, 3.0, None, {CONF_SETPOINT_SIGN: "production_positive"}
    )
    assert charge.data["value"] == -3.0
    with pytest.raises(ValueError, match="climate entity controls a heated building only"):
        command("climate.x", State("climate.x", "heat"), 1.0, None, {})
