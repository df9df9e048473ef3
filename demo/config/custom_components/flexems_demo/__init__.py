"""flexems demo home: a simulated home for `make demo`, and the flexems entry wired to it.

Set up from `configuration.yaml` (`flexems_demo: {addon_url, token}`): it makes the home's
entities (prices, weather, load, PV forecast, a battery, an EV, a heated building, a washing
machine's run) and steps the home every 10 s; once Home Assistant has started it adds the
flexems entry with those assets (unless there is one), sets the energy dashboard's grid and
solar sources, and turns "Apply plan" on, so the devices follow the plan.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigSubentryData
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.discovery import async_load_platform
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util

from .home import BATTERY_KWH, EV_CHARGER_KW, EV_KWH, EV_TARGET_SOC, Home

DOMAIN = "flexems_demo"
CONFIG_SCHEMA = vol.Schema(
    {DOMAIN: vol.Schema({vol.Required("addon_url"): str, vol.Required("token"): str})},
    extra=vol.ALLOW_EXTRA,
)
STEP = timedelta(seconds=10)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    home = Home.at(dt_util.now())
    hass.data[DOMAIN] = home
    for platform in (Platform.SENSOR, Platform.BINARY_SENSOR, Platform.NUMBER, Platform.SWITCH):
        hass.async_create_task(async_load_platform(hass, platform, DOMAIN, {}, config))

    @callback
    def tick(_: datetime) -> None:
        home.step(dt_util.now(), STEP.total_seconds())

    async_track_time_interval(hass, tick, STEP)
    settings = config[DOMAIN]

    async def wire_up(_: Event) -> None:
        await _async_wire_up(hass, settings["addon_url"], settings["token"])

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, wire_up)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """The demo's own entry only carries its solar forecast (energy.py)."""
    return True


async def _async_wire_up(hass: HomeAssistant, url: str, token: str) -> None:
    own = hass.config_entries.async_entries(DOMAIN)
    if not own:
        own_entry = _entry(DOMAIN, "demo PV forecast", {}, {}, [])
        await hass.config_entries.async_add(own_entry)
    else:
        own_entry = own[0]
    await _async_energy(hass, own_entry.entry_id)  # before the meters exist: a page shows it
    if not hass.config_entries.async_entries("flexems"):
        await hass.config_entries.async_add(_flexems_entry(url, token, own_entry.entry_id))
        await hass.async_block_till_done()
    for state in hass.states.async_all("switch"):
        if state.entity_id.endswith("_apply_plan") and state.state == "off":
            await hass.services.async_call(
                "switch", "turn_on", {"entity_id": state.entity_id}, blocking=True
            )


def _entry(
    domain: str, title: str, data: dict[str, Any], options: dict[str, Any],
    subentries: list[ConfigSubentryData],
) -> ConfigEntry:  # fmt: skip
    return ConfigEntry(
        version=1, minor_version=1, domain=domain, title=title, data=data, options=options,
        source="user", unique_id=None, discovery_keys=MappingProxyType({}),
        subentries_data=subentries,
    )  # fmt: skip


def _asset(kind: str, title: str, data: dict[str, Any]) -> ConfigSubentryData:
    return ConfigSubentryData(subentry_type=kind, title=title, unique_id=None, data=data)


def _flexems_entry(url: str, token: str, pv_entry_id: str) -> ConfigEntry:
    return _entry(
        "flexems", "flexems",
        {"url": url, "token": token},
        {"price_source": "sensor", "price_entity": "sensor.demo_day_ahead_price",
         "price_attribute": "prices", "production_price_source": "same"},
        [
            _asset("battery", "Home battery", {
                "soc_entity": "sensor.demo_battery_soc", "capacity_kwh": BATTERY_KWH,
                "power_kw": 5, "roundtrip_efficiency": 90, "reserve_soc": 10,
                "control_entity": "number.demo_battery_setpoint",
                "setpoint_sign": "consumption_positive", "fallback": "idle"}),
            _asset("ev", "Car", {
                "capacity_kwh": EV_KWH, "power_kw": EV_CHARGER_KW, "min_power_kw": 1.4,
                "soc_entity": "sensor.demo_ev_soc",
                "plugged_in_entity": "binary_sensor.demo_ev_plugged_in",
                "target_soc": EV_TARGET_SOC, "departure": "07:30:00",
                "control_entity": "number.demo_ev_charging_power", "fallback": "idle"}),
            _asset("heat_pump", "Heat pump", {
                "heats": "building", "power_kw": 3, "cop": 3.0,
                "min_run_minutes": 30, "min_off_minutes": 15,
                "indoor_temperature_entity": "sensor.demo_indoor_temperature",
                "outdoor_temperature_entity": "sensor.demo_outdoor_temperature",
                "heat_capacity_kwh_per_k": 10, "heat_loss_kw_per_k": 0.2,
                "comfort_min": 19.5, "comfort_max": 22,
                "control_entity": "switch.demo_heat_pump", "fallback": "own_control"}),
            _asset("pv", "Solar panels", {"forecast_entries": [pv_entry_id]}),
            _asset("appliance", "Washing machine", {
                "power_kw": 2, "duration_minutes": 120, "breakable": False,
                "deadline": "23:00:00"}),
        ],
    )  # fmt: skip


async def _async_energy(hass: HomeAssistant, pv_entry_id: str) -> None:
    """The energy dashboard's grid from flexems' planned import and export meters, the PV
    forecast from the demo."""
    from homeassistant.components.energy.data import async_get_manager

    manager = await async_get_manager(hass)
    if manager.data and manager.data.get("energy_sources"):
        return
    await manager.async_update({
        "energy_sources": [
            # One grid connection: import and export meters, no prices (flexems' plan has them).
            {"type": "grid",
             "stat_energy_from": "sensor.flexems_planner_planned_grid_import",
             "stat_energy_to": "sensor.flexems_planner_planned_grid_export",
             "stat_cost": None, "entity_energy_price": None, "number_energy_price": None,
             "stat_compensation": None, "entity_energy_price_export": None,
             "number_energy_price_export": None, "cost_adjustment_day": 0.0},
            {"type": "solar", "stat_energy_from": "sensor.demo_pv_energy",
             "config_entry_solar_forecast": [pv_entry_id]},
        ],
    })  # fmt: skip
