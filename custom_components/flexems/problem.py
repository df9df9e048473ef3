"""Build the add-on's site problem from Home Assistant's entities and the entry's settings."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_COMFORT_MAX,
    CONF_COMFORT_MIN,
    CONF_COP,
    CONF_DEPARTURE,
    CONF_EFFICIENCY,
    CONF_FIXED_PRICE,
    CONF_GRID_LIMIT_KW,
    CONF_HEAT_CAPACITY,
    CONF_HEAT_LOSS,
    CONF_HORIZON_HOURS,
    CONF_INDOOR_ENTITY,
    CONF_MIN_POWER_KW,
    CONF_OUTDOOR_ENTITY,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_KW,
    CONF_PRICE_ATTRIBUTE,
    CONF_PRICE_ENTITY,
    CONF_RELAX,
    CONF_RESOLUTION_MINUTES,
    CONF_SOC_ENTITY,
    CONF_TARGET_SOC,
    DEFAULT_DEPARTURE,
    DEFAULT_FIXED_PRICE,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_RESOLUTION_MINUTES,
    DEFAULT_TARGET_SOC,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
)

COMFORT_BREACH_PRICE = 10.0  # per K per hour outside the comfort band
_START_KEYS = ("start", "time", "startsAt", "start_time")
_VALUE_KEYS = ("value", "price", "total")


class MissingInputError(Exception):
    """An entity the problem needs is missing or has no usable state."""

    def __init__(self, entity_id: str, reason: str) -> None:
        super().__init__(f"{entity_id}: {reason}")
        self.entity_id = entity_id
        self.reason = reason


def build_site_problem(
    hass: HomeAssistant,
    entry: ConfigEntry,
    now: datetime,
    ev_settings: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The site problem for the plan starting at the current step."""
    options = entry.options
    resolution = timedelta(minutes=options.get(CONF_RESOLUTION_MINUTES, DEFAULT_RESOLUTION_MINUTES))
    start = _floor(dt_util.as_utc(now), resolution)
    end = start + timedelta(hours=options.get(CONF_HORIZON_HOURS, DEFAULT_HORIZON_HOURS))
    context: dict[str, Any] = {"relax-constraints": options.get(CONF_RELAX, True)}
    if price_entity := options.get(CONF_PRICE_ENTITY):
        prices = price_events(hass, price_entity, options.get(CONF_PRICE_ATTRIBUTE, "prices"))
        known_until = max(datetime.fromisoformat(event["end"]) for event in prices)
        # Plan as far as prices are known, in whole steps.
        end = min(end, start + resolution * ((known_until - start) // resolution))
        if end <= start:
            raise MissingInputError(price_entity, "its prices end before the current step")
        context["consumption-price"] = prices
    else:
        context["consumption-price"] = options.get(CONF_FIXED_PRICE, DEFAULT_FIXED_PRICE)
    if limit := options.get(CONF_GRID_LIMIT_KW):
        context["site-power-capacity"] = f"{limit} kW"
    devices = []
    for subentry_id, subentry in entry.subentries.items():
        if subentry.subentry_type == SUBENTRY_BATTERY:
            devices.append(battery_model(hass, subentry.title, subentry.data))
        elif subentry.subentry_type == SUBENTRY_HEAT_PUMP:
            devices += heat_pump_models(hass, subentry.title, subentry.data)
        elif subentry.subentry_type == SUBENTRY_EV:
            settings = (ev_settings or {}).get(subentry_id, {})
            devices.append(ev_model(hass, subentry.title, subentry.data, settings, start, end))
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "resolution": f"PT{int(resolution.total_seconds() // 60)}M",
        "flex-context": context,
        "flex-model": devices,
    }


def price_events(hass: HomeAssistant, entity_id: str, attribute: str) -> list[dict[str, Any]]:
    """Prices from a sensor attribute holding a list like Nord Pool's or ENTSO-e's.

    Each item has a start (`start`, `time`, `startsAt`), optionally an `end`, and a value
    (`value`, `price`, `total`) in the sensor's unit (per kWh or per MWh).
    """
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        raise MissingInputError(entity_id, "unavailable")
    items = state.attributes.get(attribute)
    if not isinstance(items, list) or not items:
        raise MissingInputError(entity_id, f"has no price list in its attribute {attribute!r}")
    unit = str(state.attributes.get("unit_of_measurement", "EUR/kWh")).replace(" ", "")
    per_mwh = unit.lower().endswith("/mwh")
    starts = [_first(item, _START_KEYS) for item in items]
    events = []
    for i, (item, start) in enumerate(zip(items, starts, strict=True)):
        if start is None:
            raise MissingInputError(entity_id, f"price {i} has no start time")
        begin = dt_util.as_utc(_as_datetime(start))
        end_raw = item.get("end") or (starts[i + 1] if i + 1 < len(starts) else None)
        end = dt_util.as_utc(_as_datetime(end_raw)) if end_raw else begin + timedelta(hours=1)
        value = _first(item, _VALUE_KEYS)
        if value is None:
            raise MissingInputError(entity_id, f"price {i} has no value")
        events.append(
            {
                "start": begin.isoformat(),
                "end": end.isoformat(),
                "value": float(value) / (1000.0 if per_mwh else 1.0),
            }
        )
    return events


def battery_model(hass: HomeAssistant, name: str, data: Any) -> dict[str, Any]:
    capacity = float(data[CONF_CAPACITY_KWH])
    percent = _number_state(hass, data[CONF_SOC_ENTITY])
    return {
        "name": name,
        "type": "storage",
        "soc-at-start": f"{max(0.0, min(100.0, percent)) / 100 * capacity:.4f} kWh",
        "soc-max": f"{capacity} kWh",
        "power-capacity": f"{data[CONF_POWER_KW]} kW",
        "roundtrip-efficiency": f"{data.get(CONF_EFFICIENCY, 90)}%",
    }


def ev_model(
    hass: HomeAssistant,
    name: str,
    data: Any,
    settings: dict[str, Any],
    start: datetime,
    end: datetime,
) -> dict[str, Any]:
    """An EV: charges only while plugged in and until departure, to its target by then."""
    capacity = float(data[CONF_CAPACITY_KWH])
    if soc_entity := data.get(CONF_SOC_ENTITY):
        percent = _number_state(hass, soc_entity)
    else:
        percent = float(data.get(CONF_ASSUMED_SOC, 50))
    model: dict[str, Any] = {
        "name": name,
        "type": "storage",
        "soc-at-start": f"{max(0.0, min(100.0, percent)) / 100 * capacity:.4f} kWh",
        "soc-max": f"{capacity} kWh",
        "power-capacity": f"{data[CONF_POWER_KW]} kW",
        "production-capacity": "0 kW",
        "charging-efficiency": "95%",
    }
    plugged = data.get(CONF_PLUGGED_ENTITY)
    if plugged and hass.states.is_state(plugged, "off"):
        model["availability"] = []  # not connected: nothing to plan now
        return model
    departure = next_departure(
        settings.get(CONF_DEPARTURE, data.get(CONF_DEPARTURE, DEFAULT_DEPARTURE)), start
    )
    if departure <= end:
        model["availability"] = [{"start": start.isoformat(), "end": departure.isoformat()}]
        target = float(settings.get(CONF_TARGET_SOC, data.get(CONF_TARGET_SOC, DEFAULT_TARGET_SOC)))
        model["soc-targets"] = [
            {"datetime": departure.isoformat(), "value": f"{target / 100 * capacity:.4f} kWh"}
        ]
    return model


def building_name(heat_pump: str) -> str:
    """The heat sink a heat pump subentry heats, as named in the problem and the plan."""
    return f"{heat_pump} building"


def heat_pump_models(hass: HomeAssistant, name: str, data: Any) -> list[dict[str, Any]]:
    """A heat pump and the building it heats (first-order thermal model, comfort band).

    The outdoor temperature now stands for the whole horizon (a weather forecast is next).
    """
    indoor = _number_state(hass, data[CONF_INDOOR_ENTITY])
    outdoor = _number_state(hass, data[CONF_OUTDOOR_ENTITY])
    building = {
        "name": building_name(name),
        "type": "heat-storage",
        "model": "building",
        "heat-capacity": f"{data[CONF_HEAT_CAPACITY]} kWh/K",
        "heat-loss": f"{data[CONF_HEAT_LOSS]} kW/K",
        "ambient-temperature": outdoor,
        "temperature-at-start": indoor,
        "comfort-min": float(data[CONF_COMFORT_MIN]),
        "comfort-max": float(data[CONF_COMFORT_MAX]),
        # People who set a comfort band expect it kept unless heating cannot: at 10 per K·h
        # a dip always costs more than the heat that avoids it at any realistic price.
        "comfort-breach-price": COMFORT_BREACH_PRICE,
    }
    pump: dict[str, Any] = {
        "name": name,
        "type": "heat-pump",
        "heats": building_name(name),
        "power-capacity": f"{data[CONF_POWER_KW]} kW",
        "cop": float(data.get(CONF_COP, 3.0)),
    }
    if data.get(CONF_MIN_POWER_KW):
        pump["min-power"] = f"{data[CONF_MIN_POWER_KW]} kW"
    return [building, pump]


def next_departure(departure: Any, after: datetime) -> datetime:
    """The next moment, after `after`, at the departure time of day (local time)."""
    clock = departure if isinstance(departure, time) else time.fromisoformat(str(departure))
    local = dt_util.as_local(after)
    moment = local.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
    if moment <= local:
        moment += timedelta(days=1)
    return dt_util.as_utc(moment)


def _number_state(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        raise MissingInputError(entity_id, "unavailable")
    try:
        return float(state.state)
    except ValueError:
        raise MissingInputError(entity_id, f"state {state.state!r} is not a number") from None


def _floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % step


def _first(item: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(item, dict):
        return None
    return next((item[key] for key in keys if item.get(key) is not None), None)


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
