"""Assets can be changed after they are added: the form shows their settings, the entry reloads
once, and the asset keeps its device, entities and "Apply plan" choice; an asset deleted and
added again starts with applying off."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from custom_components.flexems.const import (
    CONF_CAPACITY_KWH,
    CONF_COMFORT_MAX,
    CONF_COMFORT_MIN,
    CONF_CONTROL_ENTITY,
    CONF_FALLBACK,
    CONF_HEATS,
    CONF_POWER_KW,
    CONF_RESERVE_SOC,
    SUBENTRY_BATTERY,
    SUBENTRY_HEAT_PUMP,
)

from ..api.server import Server
from .conftest import (
    APPLY_SWITCH,
    SETPOINT,
    SOC_ENTITY,
    add_asset,
    battery_with_setpoint,
    entry_for,
    set_inputs,
    settle,
)
from .test_heat_pump import INDOOR, OUTDOOR, PUMP

SWITCH = APPLY_SWITCH


async def test_a_battery_is_changed_in_place(
    hass: HomeAssistant, addon: Server, reloads: list[str]
) -> None:
    entry = await battery_with_setpoint(hass, addon)
    subentry = next(iter(entry.subentries.values()))
    entities = er.async_get(hass)
    before = entities.async_get(SWITCH)
    device_id = before.device_id
    result = await entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    assert result["step_id"] == "reconfigure"
    # The form shows the asset's settings, not the defaults for a new one.
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested["name"] == "battery"
    assert suggested[CONF_CAPACITY_KWH] == 10
    assert suggested[CONF_CONTROL_ENTITY] == SETPOINT
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "battery", "soc_entity": SOC_ENTITY, CONF_CAPACITY_KWH: 13.5, CONF_POWER_KW: 5,
         "roundtrip_efficiency": 90, CONF_RESERVE_SOC: 20, CONF_CONTROL_ENTITY: SETPOINT,
         CONF_FALLBACK: "leave"},
    )  # fmt: skip
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await settle(hass)
    assert reloads == [entry.entry_id]  # once
    assert entry.subentries[subentry.subentry_id].data[CONF_CAPACITY_KWH] == 13.5
    after = entities.async_get(SWITCH)
    assert after.unique_id == before.unique_id and after.device_id == device_id
    assert dr.async_get(hass).async_get(device_id) is not None
    switch = hass.states.get(SWITCH)
    assert switch.state == "on"  # the choice stays
    assert switch.attributes["fallback"] == "leave"
    problem = entry.runtime_data.coordinator.problem
    assert problem["flex-model"][0]["soc-max"] == "13.5 kWh"


async def test_a_deleted_and_added_again_asset_starts_with_applying_off(
    hass: HomeAssistant, addon: Server
) -> None:
    entry = await battery_with_setpoint(hass, addon)
    subentry = next(iter(entry.subentries.values()))
    assert hass.config_entries.async_remove_subentry(entry, subentry.subentry_id)
    await settle(hass)
    assert hass.states.get(SWITCH) is None or hass.states.get(SWITCH).state == "unavailable"
    add_asset(hass, entry, SUBENTRY_BATTERY, "battery",
              {**subentry.data, CONF_CONTROL_ENTITY: SETPOINT})  # fmt: skip
    await settle(hass)
    assert hass.states.get(SWITCH).state == "off"


async def test_a_heat_pump_keeps_what_it_heats_and_checks_its_band(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    hass.states.async_set(INDOOR, "20", {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "5", {"unit_of_measurement": "°C"})
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    add_asset(hass, entry, SUBENTRY_HEAT_PUMP, "heat pump", {**PUMP, CONF_HEATS: "building"})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    pump = next(s for s in entry.subentries.values() if s.title == "heat pump")
    result = await entry.start_subentry_reconfigure_flow(hass, pump.subentry_id)
    fields = {"name": "heat pump", **PUMP}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**fields, CONF_COMFORT_MIN: 23, CONF_COMFORT_MAX: 22}
    )
    assert result["errors"] == {CONF_COMFORT_MIN: "comfort_band"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**fields, CONF_COMFORT_MIN: 20, CONF_COMFORT_MAX: 23}
    )
    assert result["reason"] == "reconfigure_successful"
    await settle(hass)
    changed = entry.subentries[pump.subentry_id].data
    assert changed[CONF_HEATS] == "building" and changed[CONF_COMFORT_MIN] == 20
    assert hass.states.get("sensor.heat_pump_planned_temperature") is not None
    assert entry.state is config_entries.ConfigEntryState.LOADED
