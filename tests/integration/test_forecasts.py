"""Forecasts in the site problem: PV from an energy-platform solar forecast, household load from
the recorder's statistics, and the outdoor temperature from a weather entity's hourly forecast."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    mock_integration,
    mock_platform,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.flexems.const import (
    CONF_FIXED_PRICE,
    CONF_FORECAST_ENTRIES,
    CONF_LOAD_ENTITY,
    CONF_LOAD_EXCLUDED,
    CONF_LOAD_WEEKS,
    CONF_PRICE_ENTITY,
    CONF_PRICE_SOURCE,
    CONF_WEATHER_ENTITY,
    SUBENTRY_PV,
)
from custom_components.flexems.errors import MissingInputError
from custom_components.flexems.forecasts import outdoor_temperatures
from custom_components.flexems.problem import async_build_site_problem

from ..api.server import Server
from .conftest import add_asset, entry_for, set_inputs
from .test_heat_pump import INDOOR, OUTDOOR, PUMP

NOW = datetime.fromisoformat("2026-06-03T10:07:00+00:00")  # a Wednesday
FIXED = {CONF_PRICE_SOURCE: "fixed", CONF_FIXED_PRICE: 0.3, CONF_PRICE_ENTITY: None}


async def solar_provider(hass: HomeAssistant, wh_hours: dict[str, float]) -> MockConfigEntry:
    """A solar forecast integration, as Forecast.Solar or Solcast is: its cloud is replaced by
    the forecast it would have returned; the energy platform protocol is the real one."""

    async def async_get_solar_forecast(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
        return {"wh_hours": wh_hours}

    mock_integration(hass, MockModule("solar_test"))
    mock_platform(
        hass,
        "solar_test.energy",
        SimpleNamespace(async_get_solar_forecast=async_get_solar_forecast),
    )
    assert await async_setup_component(hass, "solar_test", {})
    provider = MockConfigEntry(domain="solar_test", title="Roof")
    provider.add_to_hass(hass)
    return provider


async def test_pv_forecast_becomes_production_and_a_sensor(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    provider = await solar_provider(
        hass, {"2026-06-03T10:00:00+00:00": 3000, "2026-06-03T11:00:00+00:00": 4000}
    )
    set_inputs(hass)
    entry = entry_for(addon, **FIXED)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_PV), context={"source": config_entries.SOURCE_USER}
    )
    options = result["data_schema"].schema[CONF_FORECAST_ENTRIES].config["options"]
    assert options == [{"value": provider.entry_id, "label": "Roof (solar_test)"}]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "roof", CONF_FORECAST_ENTRIES: []}
    )
    assert result["errors"] == {CONF_FORECAST_ENTRIES: "forecast_needed"}  # none in the dashboard
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "roof", CONF_FORECAST_ENTRIES: [provider.entry_id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    problem = (await async_build_site_problem(hass, entry, NOW)).body
    production = problem["flex-context"]["inflexible-production"]
    # 3 kWh in the 10:00 hour and 4 kWh in the next: 3 kW and 4 kW per quarter, then none.
    assert production["values"][:9] == [3.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0, 4.0, 0.0]
    forecast = hass.states.get("sensor.roof_forecast_power")
    assert float(forecast.state) == 3.0
    assert forecast.attributes["schedule"][1] == {
        "start": "2026-06-03T11:00:00Z", "end": "2026-06-03T12:00:00Z", "value": 4.0,
    }  # fmt: skip
    # The plan's grid power carries the PV: net = battery − PV.
    plan = entry.runtime_data.coordinator.data
    battery = plan["devices"]["battery"]["power_kw"]
    assert plan["site"]["net_power_kw"][:5] == pytest.approx(
        [battery[i] - pv for i, pv in enumerate([3.0, 3.0, 3.0, 3.0, 4.0])]
    )


async def test_weather_forecast_sets_the_outdoor_temperature(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    hours = [NOW.replace(minute=0) + timedelta(hours=h + 1) for h in range(3)]
    forecast = [
        {"datetime": moment.isoformat(), "temperature": 41.0 + 9 * i, "condition": "sunny"}
        for i, moment in enumerate(hours)
    ]
    assert await async_setup_component(
        hass,
        "template",
        {"template": [{"weather": [{
            "name": "home", "condition_template": "sunny", "temperature_template": "{{ 35 }}",
            "humidity_template": "{{ 50 }}", "temperature_unit": "°F",
            "forecast_hourly_template": "{{ " + repr(forecast) + " }}",
        }]}]},
    )  # fmt: skip
    await hass.async_block_till_done()
    steps = [NOW.replace(minute=0) + timedelta(minutes=15 * i) for i in range(16)]
    values = await outdoor_temperatures(hass, "weather.home", 1.5, steps)
    # Before the first forecast hour: the measured 1.5 °C; then 5, 10 and 15 °C (41, 50, 59 °F).
    assert values[:4] == [1.5] * 4
    assert values[4:16:4] == [5.0, 10.0, 15.0]
    with pytest.raises(MissingInputError, match=r"weather\.nowhere gave no hourly forecast"):
        await outdoor_temperatures(hass, "weather.nowhere", 1.5, steps)


async def test_a_heat_pump_with_a_weather_forecast_plans_with_it(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    forecast = [{"datetime": (NOW + timedelta(hours=h)).isoformat(), "temperature": -5.0,
                 "condition": "snowy"} for h in range(30)]  # fmt: skip
    assert await async_setup_component(
        hass,
        "template",
        {"template": [{"weather": [{
            "name": "home", "condition_template": "snowy", "temperature_template": "{{ -5 }}",
            "humidity_template": "{{ 80 }}",
            "forecast_hourly_template": "{{ " + repr(forecast) + " }}",
        }]}]},
    )  # fmt: skip
    await hass.async_block_till_done()
    set_inputs(hass)
    hass.states.async_set(INDOOR, "20.5", {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "10", {"unit_of_measurement": "°C"})
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    add_asset(hass, entry, "heat_pump", "heat pump", {**PUMP, CONF_WEATHER_ENTITY: "weather.home"})
    problem = (await async_build_site_problem(hass, entry, NOW)).body
    building = next(d for d in problem["flex-model"] if d["name"] == "heat pump building")
    assert building["ambient-temperature"]["values"][0] == 10.0  # measured until the forecast
    assert set(building["ambient-temperature"]["values"][1:]) == {-5.0}


async def test_load_forecast_is_the_mean_of_recent_weeks_less_planned_devices(
    recorder_mock: Recorder, hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    first = NOW.replace(minute=0)

    def house(moment: datetime, weeks_back: int) -> float:
        evening = 1.0 if dt_util.as_local(moment).hour == 19 else 0.0
        return 0.4 + evening + 0.2 * weeks_back

    house_rows, charger_rows = [], []
    for hour in range(4 * 7 * 24):
        moment = first - timedelta(hours=hour + 1)
        weeks_back = hour // (7 * 24) + 1
        value = house(moment, weeks_back)
        # Last week the EV charged at 2 kW at 19:00: in the house meter, but planned, not forecast.
        charging = 2.0 if weeks_back == 1 and dt_util.as_local(moment).hour == 19 else 0.0
        house_rows.append({"start": moment, "mean": value + charging, "min": 0, "max": 9})
        charger_rows.append({"start": moment, "mean": charging, "min": 0, "max": 9})
    for statistic_id, rows in (
        ("sensor.house_power", house_rows),
        ("sensor.ev_charger", charger_rows),
    ):
        async_import_statistics(
            hass,
            {"mean_type": StatisticMeanType.ARITHMETIC, "has_sum": False, "name": None,
             "source": "recorder", "statistic_id": statistic_id, "unit_class": "power",
             "unit_of_measurement": "kW"},
            rows,
        )  # fmt: skip
    await async_wait_recording_done(hass)
    set_inputs(hass)
    entry = entry_for(
        addon,
        **{CONF_LOAD_ENTITY: "sensor.house_power", CONF_LOAD_EXCLUDED: ["sensor.ev_charger"],
           CONF_LOAD_WEEKS: 4},
    )  # fmt: skip
    problem = (await async_build_site_problem(hass, entry, NOW)).body
    load = {e["start"]: e["value"] for e in problem["flex-context"]["inflexible-consumption"]}
    assert len(load) == 24
    # 12:00 local (10:00 UTC): 0.4 plus the mean of 0.2, 0.4, 0.6, 0.8 added by week.
    assert load["2026-06-03T10:00:00+00:00"] == pytest.approx(0.9)
    # 19:00 local: the evening peak, and the EV's charging last week taken out.
    assert load["2026-06-03T17:00:00+00:00"] == pytest.approx(1.9)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.data["status"] == "optimal"


async def test_load_without_history_uses_the_power_now_or_says_why(
    recorder_mock: Recorder, hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = entry_for(addon, **{CONF_LOAD_ENTITY: "sensor.house_power"})
    hass.states.async_set("sensor.house_power", "800", {"unit_of_measurement": "W"})
    problem = (await async_build_site_problem(hass, entry, dt_util.utcnow())).body
    assert {e["value"] for e in problem["flex-context"]["inflexible-consumption"]} == {0.8}
    hass.states.async_set("sensor.house_power", "3", {"unit_of_measurement": "kWh"})
    with pytest.raises(MissingInputError, match="has no recorded history yet"):
        await async_build_site_problem(hass, entry, dt_util.utcnow())
