"""Forecasts over the plan: PV production, household load and the outdoor temperature.

- PV: from any integration that provides the energy dashboard's solar forecast (its `energy`
  platform, as `forecast_solar` and Solcast have), read the way the energy dashboard reads it.
- Load: from the recorder's hourly statistics of a household power or energy sensor: each hour
  is the mean of the same local weekday and time over recent weeks, less the measured power of
  the devices flexems plans (they are planned, not forecast).
- Outdoor temperature: a weather entity's hourly forecast (`weather.get_forecasts`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from homeassistant.components.energy import async_get_manager
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import (
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.integration_platform import async_process_integration_platforms
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.unit_conversion import TemperatureConverter

from .const import DOMAIN
from .errors import MissingInputError
from .states import as_number, usable_state

HOUR = timedelta(hours=1)
type SolarForecast = Callable[[HomeAssistant, str], Awaitable[dict[str, Any] | None]]
# Per integration with an energy platform, its solar forecast (the energy dashboard's protocol:
# `energy.py` with `async_get_solar_forecast(hass, config_entry_id)`), found as they load.
SOLAR_FORECASTS: HassKey[dict[str, SolarForecast]] = HassKey(f"{DOMAIN}_solar_forecasts")


async def async_solar_platforms(hass: HomeAssistant) -> dict[str, SolarForecast]:
    """The solar forecast of each integration that has one; registered once, kept current."""
    if (known := hass.data.get(SOLAR_FORECASTS)) is not None:
        return known
    found: dict[str, SolarForecast] = {}
    hass.data[SOLAR_FORECASTS] = found

    @callback
    def process(hass: HomeAssistant, domain: str, platform: Any) -> None:
        if hasattr(platform, "async_get_solar_forecast"):
            found[domain] = platform.async_get_solar_forecast

    await async_process_integration_platforms(hass, "energy", process, wait_for_platforms=True)
    return found


async def solar_forecast_entries(hass: HomeAssistant) -> dict[str, str]:
    """Config entries that can give a solar forecast: entry id → title (and integration)."""
    platforms = await async_solar_platforms(hass)
    return {
        entry.entry_id: f"{entry.title} ({entry.domain})"
        for entry in hass.config_entries.async_entries()
        if entry.domain in platforms
    }


async def dashboard_solar_entries(hass: HomeAssistant) -> list[str]:
    """The solar forecast entries the energy dashboard is set to use."""
    if "energy" not in hass.config.components:
        return []
    manager = await async_get_manager(hass)
    sources = manager.data["energy_sources"] if manager.data else []
    return [
        entry_id
        for source in sources
        if source["type"] == "solar"
        for entry_id in source.get("config_entry_solar_forecast") or []
    ]


async def solar_power(
    hass: HomeAssistant, entry_ids: list[str], steps: list[datetime], step: timedelta
) -> list[float]:
    """Forecast PV power (kW) per plan step, summed over the entries; 0 beyond a forecast."""
    platforms = await async_solar_platforms(hass)
    power = [0.0] * len(steps)
    for entry_id in entry_ids:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain not in platforms:
            raise MissingInputError(f"solar forecast {entry_id}", "not_set_up")
        forecast = await platforms[entry.domain](hass, entry_id)
        if not forecast or not forecast.get("wh_hours"):
            raise MissingInputError(entry.title, "no_solar_forecast")
        periods = _energy_periods(forecast["wh_hours"])
        for i, begin in enumerate(steps):
            power[i] += _mean_power(periods, begin, begin + step)
    return power


def _energy_periods(wh_hours: dict[str, float | int]) -> list[tuple[datetime, datetime, float]]:
    """(start, end, kW) per forecast period: each key starts an hour, or less where the next
    key comes sooner (half-hourly forecasts)."""
    starts = sorted(
        (dt_util.as_utc(datetime.fromisoformat(key)), wh) for key, wh in wh_hours.items()
    )
    periods = []
    for i, (begin, wh) in enumerate(starts):
        end = begin + HOUR
        if i + 1 < len(starts):
            end = min(end, starts[i + 1][0])
        periods.append((begin, end, float(wh) / 1000 / ((end - begin) / HOUR)))
    return periods


def _mean_power(
    periods: list[tuple[datetime, datetime, float]], begin: datetime, end: datetime
) -> float:
    """Time-weighted mean power over [begin, end): the step keeps the forecast's energy."""
    energy_h = sum(
        kw * max(0.0, (min(end, p_end) - max(begin, p_begin)) / HOUR)
        for p_begin, p_end, kw in periods
    )
    return round(energy_h / ((end - begin) / HOUR), 4)


async def load_forecast(
    hass: HomeAssistant,
    entity_id: str,
    excluded: list[str],
    weeks: int,
    start: datetime,
    end: datetime,
) -> list[dict[str, Any]]:
    """Household power (kW) per hour over [start, end) as `{start, end, value}` events."""
    if "recorder" not in hass.config.components:
        raise MissingInputError(entity_id, "needs_recorder")
    first = start.replace(minute=0, second=0, microsecond=0)
    since = first - timedelta(weeks=weeks)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        since,
        first,
        {entity_id, *excluded},
        "hour",
        {"power": UnitOfPower.KILO_WATT, "energy": UnitOfEnergy.KILO_WATT_HOUR},
        {"mean", "change"},
    )
    load = _hourly(rows.get(entity_id, []))
    for other in excluded:
        for hour, kw in _hourly(rows.get(other, [])).items():
            if hour in load:
                load[hour] -= kw
    fallback = fmean(load.values()) if load else _power_now(hass, entity_id)
    events = []
    hour = first
    while hour < end:
        local = dt_util.as_local(hour)
        # The same local weekday and time in earlier weeks (wall-clock arithmetic keeps DST).
        same = [
            load[moment]
            for k in range(1, weeks + 1)
            if (moment := dt_util.as_utc(local - timedelta(weeks=k))) in load
        ]
        value = max(0.0, fmean(same) if same else fallback)
        events.append(
            {"start": hour.isoformat(), "end": (hour + HOUR).isoformat(), "value": round(value, 4)}
        )
        hour += HOUR
    return events


def _forecast_points(body: Any) -> list[tuple[datetime, float]]:
    """(moment, temperature) from one entity's `weather.get_forecasts` answer."""
    items = body.get("forecast") if isinstance(body, dict) else None
    return [
        (dt_util.as_utc(datetime.fromisoformat(str(item["datetime"]))), float(item["temperature"]))
        for item in items or []
        if isinstance(item, dict) and item.get("temperature") is not None
    ]


def _hourly(rows: list[Any]) -> dict[datetime, float]:
    """kW per hour from statistics rows: a power's mean, or an energy's change in the hour."""
    hourly = {}
    for row in rows:
        value = row.get("mean")
        if value is None:
            value = row.get("change")
        if value is not None:
            hourly[dt_util.utc_from_timestamp(row["start"])] = float(value)
    return hourly


def _power_now(hass: HomeAssistant, entity_id: str) -> float:
    state = usable_state(hass, entity_id, "no_history")
    unit = state.attributes.get("unit_of_measurement")
    if unit not in (UnitOfPower.WATT, UnitOfPower.KILO_WATT):
        raise MissingInputError(entity_id, "no_history")
    value = as_number(state)
    return value / 1000 if unit == UnitOfPower.WATT else value


async def outdoor_temperatures(
    hass: HomeAssistant, weather_entity: str, now_c: float, steps: list[datetime]
) -> list[float]:
    """°C per plan step from an hourly weather forecast; the measured value before it starts,
    its last value after it ends."""
    try:
        response = await hass.services.async_call(
            "weather",
            "get_forecasts",
            {"entity_id": weather_entity, "type": "hourly"},
            blocking=True,
            return_response=True,
        )
    except HomeAssistantError as error:
        raise MissingInputError(weather_entity, "weather_failed") from error
    state = hass.states.get(weather_entity)
    unit = state.attributes.get("temperature_unit") if state else None
    points = sorted(_forecast_points((response or {}).get(weather_entity)))
    if not points:
        raise MissingInputError(weather_entity, "no_hourly_temperature")
    unit = unit or UnitOfTemperature.CELSIUS
    celsius = [
        (moment, TemperatureConverter.convert(value, unit, UnitOfTemperature.CELSIUS))
        for moment, value in points
    ]
    values = []
    for begin in steps:
        before = [value for moment, value in celsius if moment <= begin]
        values.append(round(before[-1] if before else now_c, 2))
    return values
