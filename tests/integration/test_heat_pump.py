"""A heat pump heating the building: comfort band kept, planned power and temperature shown."""

from __future__ import annotations

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir

from custom_components.flexems.const import (
    CONF_COMFORT_MAX,
    CONF_COMFORT_MIN,
    CONF_COP,
    CONF_HEAT_CAPACITY,
    CONF_HEAT_LOSS,
    CONF_INDOOR_ENTITY,
    CONF_MIN_RUN_MINUTES,
    CONF_OUTDOOR_ENTITY,
    CONF_POWER_KW,
    DOMAIN,
    SUBENTRY_HEAT_PUMP,
)

from ..api.server import Server
from .conftest import add_asset, entry_for, set_inputs

INDOOR = "sensor.living_room_temperature"
OUTDOOR = "sensor.outdoor_temperature"
THERMOSTAT = "climate.living_room"


async def living_room_thermostat(hass: HomeAssistant, target_temp: float) -> None:
    """A real generic_thermostat on the living room's sensor (20.5 °C inside, 2 °C out),
    switching an input_boolean heater, at its own target."""
    from homeassistant.setup import async_setup_component

    hass.states.async_set(INDOOR, "20.5", {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "2", {"unit_of_measurement": "°C"})
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"heater": {}}})
    assert await async_setup_component(
        hass, "climate",
        {"climate": {"platform": "generic_thermostat", "name": "living room",
                     "heater": "input_boolean.heater", "target_sensor": INDOOR,
                     "target_temp": target_temp, "target_temp_step": 0.5}},
    )  # fmt: skip
    await hass.async_block_till_done()


PUMP = {
    CONF_POWER_KW: 3,
    CONF_COP: 3.5,
    CONF_INDOOR_ENTITY: INDOOR,
    CONF_OUTDOOR_ENTITY: OUTDOOR,
    CONF_HEAT_CAPACITY: 10,
    CONF_HEAT_LOSS: 0.2,
    CONF_COMFORT_MIN: 19,
    CONF_COMFORT_MAX: 22,
}


async def with_heat_pump(hass: HomeAssistant, addon: Server, indoor: str | None = "20.5"):  # type: ignore[no-untyped-def]
    set_inputs(hass)
    if indoor is not None:
        hass.states.async_set(INDOOR, indoor, {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "2", {"unit_of_measurement": "°C"})
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    add_asset(hass, entry, SUBENTRY_HEAT_PUMP, "heat pump", PUMP)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_the_building_stays_comfortable_and_the_plan_is_shown(
    hass: HomeAssistant, addon: Server
) -> None:
    entry = await with_heat_pump(hass, addon)
    plan = entry.runtime_data.coordinator.data
    temperatures = plan["devices"]["heat pump building"]["temperature_c"]
    assert min(temperatures) >= 19 - 1e-6 and max(temperatures) <= 22 + 1e-6
    assert plan["devices"]["heat pump"]["type"] == "heat-pump"
    assert sum(plan["devices"]["heat pump"]["power_kw"]) > 0  # 3.4 kW of losses at 19 °C
    temperature = hass.states.get("sensor.heat_pump_planned_temperature")
    assert temperature.attributes["unit_of_measurement"] == "°C"
    assert float(temperature.state) == pytest.approx(temperatures[0])
    chart = hass.states.get("sensor.heat_pump_planned_temperature").attributes["schedule"]
    assert chart[-1]["end"] == plan["end"] and chart[0]["value"] == temperatures[0]


async def test_a_missing_indoor_sensor_is_a_repair_issue(
    hass: HomeAssistant, addon: Server
) -> None:
    entry = await with_heat_pump(hass, addon, indoor=None)
    # Set up without a plan (so applied devices can be made safe), the entities unavailable.
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.flexems_planner_plan_status").state == "unavailable"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"missing_input_{INDOOR}") is not None


async def test_the_heat_pump_subentry_checks_the_comfort_band(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    hass.states.async_set(INDOOR, "20", {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "5", {"unit_of_measurement": "°C"})
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_HEAT_PUMP), context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "building"}
    )
    fields = {"name": "heat pump", **PUMP}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**fields, CONF_COMFORT_MIN: 23}
    )
    assert result["errors"] == {CONF_COMFORT_MIN: "comfort_band"}
    # A minimum run time needs a heat pump that starts and stops (a modulating one has none).
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**fields, CONF_MIN_RUN_MINUTES: 30}
    )
    assert result["errors"] == {CONF_MIN_RUN_MINUTES: "run_times_need_on_off"}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], fields)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hass.states.get("sensor.heat_pump_planned_temperature") is not None
