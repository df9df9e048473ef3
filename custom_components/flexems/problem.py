"""Build the add-on's site problem from Home Assistant's entities and the entry's settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from . import forecasts
from .const import (
    CONF_ASSUMED_SOC,
    CONF_BREAKABLE,
    CONF_CAPACITY_KWH,
    CONF_COMFORT_MAX,
    CONF_COMFORT_MIN,
    CONF_CONTROL_ENTITY,
    CONF_COP,
    CONF_DEADLINE,
    CONF_DEPARTURE,
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
    CONF_EFFICIENCY,
    CONF_END_SOC,
    CONF_FIXED_PRICE,
    CONF_FORECAST_ENTRIES,
    CONF_GRID_LIMIT_KW,
    CONF_HEAT_CAPACITY,
    CONF_HEAT_LOSS,
    CONF_HEATS,
    CONF_HORIZON_HOURS,
    CONF_HOT_WATER_KWH_PER_DAY,
    CONF_INDOOR_ENTITY,
    CONF_LOAD_ENTITY,
    CONF_LOAD_EXCLUDED,
    CONF_LOAD_WEEKS,
    CONF_MIN_OFF_MINUTES,
    CONF_MIN_POWER_KW,
    CONF_MIN_RUN_MINUTES,
    CONF_NORDPOOL_AREA,
    CONF_NORDPOOL_ENTRY,
    CONF_OUTDOOR_ENTITY,
    CONF_PEAK_PRICE,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_KW,
    CONF_PRICE_ATTRIBUTE,
    CONF_PRICE_ENTITY,
    CONF_PRICE_MARKUP,
    CONF_PRICE_SOURCE,
    CONF_PRODUCTION_ATTRIBUTE,
    CONF_PRODUCTION_ENTITY,
    CONF_PRODUCTION_FIXED,
    CONF_PRODUCTION_SOURCE,
    CONF_PROFILE,
    CONF_RELAX,
    CONF_RESERVE_SOC,
    CONF_RESOLUTION_MINUTES,
    CONF_SOC_ENTITY,
    CONF_TANK_ENTITY,
    CONF_TANK_LITRES,
    CONF_TANK_LOSS_W_PER_K,
    CONF_TANK_MAX,
    CONF_TANK_MIN,
    CONF_TANK_TARGET,
    CONF_TANK_TARGET_TIME,
    CONF_TARGET_SOC,
    CONF_WEATHER_ENTITY,
    DEFAULT_DEPARTURE,
    DEFAULT_FIXED_PRICE,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_LOAD_WEEKS,
    DEFAULT_RESERVE_SOC,
    DEFAULT_RESOLUTION_MINUTES,
    DEFAULT_TARGET_SOC,
    HEATS_BUFFER,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
    SUBENTRY_PV,
)
from .controls import HVAC_OFF, command, observed, same
from .errors import MissingInputError
from .prices import (
    SOURCE_FIXED,
    SOURCE_NORDPOOL,
    SOURCE_SAME,
    SOURCE_SENSOR,
    PriceEvents,
    known_until,
    nordpool_events,
    price_events,
    with_markup,
)
from .states import number_state, temperature_state

COMFORT_BREACH_PRICE = 10.0  # per K per hour outside the comfort band
WATER_KWH_PER_LITRE_K = 4.186 / 3600  # specific heat of water
TANK_SURROUNDINGS_C = 20.0  # a tank stands indoors
PROFILE_STEP = timedelta(minutes=15)  # an appliance profile gives a power per quarter hour


@dataclass
class ApplianceRun:
    """An appliance the user asked to run once: planned until it has run."""

    armed_at: datetime
    started_at: datetime | None = None


@dataclass
class AssetSettings:
    """What the user sets through flexems' own entities, read when the problem is built."""

    ev: dict[str, dict[str, Any]]
    appliances: dict[str, ApplianceRun]


@dataclass
class SiteProblem:
    """The problem for the add-on, and the forecasts in it that the plan does not echo."""

    body: dict[str, Any]
    pv_kw: dict[str, list[float]]  # per PV subentry: forecast power per step


async def async_build_site_problem(
    hass: HomeAssistant,
    entry: ConfigEntry,
    now: datetime,
    settings: AssetSettings | None = None,
) -> SiteProblem:
    """The site problem for the plan starting at the current step."""
    settings = settings or AssetSettings(ev={}, appliances={})
    options = entry.options
    resolution = plan_step(options)
    start = _floor(dt_util.as_utc(now), resolution)
    end = start + timedelta(hours=options.get(CONF_HORIZON_HOURS, DEFAULT_HORIZON_HOURS))
    context: dict[str, Any] = {"relax-constraints": options.get(CONF_RELAX, True)}

    fetched: list[PriceEvents] = []

    async def nordpool() -> PriceEvents:
        """Nord Pool's prices, asked once though both prices may come from them."""
        if not fetched:
            fetched.append(
                await nordpool_events(
                    hass, options[CONF_NORDPOOL_ENTRY], options.get(CONF_NORDPOOL_AREA), start, end
                )
            )
        return fetched[0]

    consumption_source, production_source = price_sources(options)
    consumption = with_markup(
        await _prices(hass, options, consumption_source, _CONSUMPTION_KEYS, nordpool),
        float(options.get(CONF_PRICE_MARKUP) or 0.0),
    )
    context["consumption-price"] = consumption
    # Same: exports earn the consumption price (FlexMeasures' default), so none is given.
    production = None
    if production_source != SOURCE_SAME:
        production = await _prices(hass, options, production_source, _PRODUCTION_KEYS, nordpool)
    if production is not None:
        context["production-price"] = production
    # Plan as far as every price is known, in whole steps.
    for prices, source in ((consumption, "consumption"), (production, "production")):
        if prices is not None and (until := known_until(prices)) is not None:
            end = min(end, start + resolution * ((until - start) // resolution))
            if end <= start:
                raise MissingInputError(_price_source_name(options, source), "no_prices_ahead")
    steps = [start + i * resolution for i in range((end - start) // resolution)]

    if limit := options.get(CONF_GRID_LIMIT_KW):
        context["site-power-capacity"] = f"{limit} kW"
    if peak_price := options.get(CONF_PEAK_PRICE):
        context["site-peak-consumption-price"] = float(peak_price)  # per kW, in the currency
    if load_entity := options.get(CONF_LOAD_ENTITY):
        context["inflexible-consumption"] = await forecasts.load_forecast(
            hass,
            load_entity,
            list(options.get(CONF_LOAD_EXCLUDED, [])),
            int(options.get(CONF_LOAD_WEEKS, DEFAULT_LOAD_WEEKS)),
            start,
            end,
        )

    devices: list[dict[str, Any]] = []
    pv = [0.0] * len(steps)
    pv_kw: dict[str, list[float]] = {}
    for subentry_id, subentry in entry.subentries.items():
        kind, name, data = subentry.subentry_type, subentry.title, subentry.data
        if kind == SUBENTRY_BATTERY:
            devices.append(battery_model(hass, name, data, end))
        elif kind == SUBENTRY_EV:
            ev = settings.ev.get(subentry_id, {})
            devices.append(ev_model(hass, name, data, ev, start, end))
        elif kind == SUBENTRY_HEAT_PUMP:
            devices += await heat_pump_models(hass, name, data, steps)
        elif kind == SUBENTRY_APPLIANCE:
            run = settings.appliances.get(subentry_id)
            if run and (model := appliance_model(name, data, run, start, end, resolution)):
                devices.append(model)
        elif kind == SUBENTRY_PV:
            entries = list(data.get(CONF_FORECAST_ENTRIES) or [])
            if not entries:
                entries = await forecasts.dashboard_solar_entries(hass)
            if not entries:
                raise MissingInputError(name, "no_solar_forecast_chosen")
            pv_kw[subentry_id] = await forecasts.solar_power(hass, entries, steps, resolution)
            pv = [total + kw for total, kw in zip(pv, pv_kw[subentry_id], strict=True)]
    if any(pv):
        context["inflexible-production"] = {
            "start": start.isoformat(),
            "resolution": _iso_minutes(resolution),
            "values": [round(kw, 4) for kw in pv],
        }
    body = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "resolution": _iso_minutes(resolution),
        "flex-context": context,
        "flex-model": devices,
    }
    return SiteProblem(body, pv_kw)


def plan_step(options: Any) -> timedelta:
    """The plans' step, from the entry's options."""
    return timedelta(minutes=int(options.get(CONF_RESOLUTION_MINUTES, DEFAULT_RESOLUTION_MINUTES)))


# Per price: the options naming its sensor, the sensor's attribute, its fixed price and default.
_CONSUMPTION_KEYS = (CONF_PRICE_ENTITY, CONF_PRICE_ATTRIBUTE, CONF_FIXED_PRICE, DEFAULT_FIXED_PRICE)
_PRODUCTION_KEYS = (CONF_PRODUCTION_ENTITY, CONF_PRODUCTION_ATTRIBUTE, CONF_PRODUCTION_FIXED, 0.0)


def price_sources(options: Any) -> tuple[str, str]:
    """Where the consumption and the production prices come from (a sensor, Nord Pool, fixed;
    production also "same"). Entries older than the source choice name only a sensor."""
    consumption = options.get(CONF_PRICE_SOURCE) or (
        SOURCE_SENSOR if options.get(CONF_PRICE_ENTITY) else SOURCE_FIXED
    )
    return consumption, options.get(CONF_PRODUCTION_SOURCE, SOURCE_SAME)


def price_sensors(options: Any) -> list[tuple[str, str]]:
    """The sensors whose price lists the plan reads, each with its attribute."""
    return [
        (options[entity], options.get(attribute, "prices"))
        for source, (entity, attribute, _, _) in zip(
            price_sources(options), (_CONSUMPTION_KEYS, _PRODUCTION_KEYS), strict=True
        )
        if source == SOURCE_SENSOR and options.get(entity)
    ]


async def _prices(
    hass: HomeAssistant,
    options: Any,
    source: str,
    keys: tuple[str, str, str, float],
    nordpool: Callable[[], Awaitable[PriceEvents]],
) -> PriceEvents | float:
    entity, attribute, fixed, default = keys
    if source == SOURCE_SENSOR:
        return price_events(hass, options[entity], options.get(attribute, "prices"))
    if source == SOURCE_NORDPOOL:
        return await nordpool()
    return float(options.get(fixed, default))


def _price_source_name(options: Any, which: str) -> str:
    if which == "production" and options.get(CONF_PRODUCTION_ENTITY):
        return str(options[CONF_PRODUCTION_ENTITY])
    return str(options.get(CONF_PRICE_ENTITY) or options.get(CONF_NORDPOOL_ENTRY) or "prices")


def battery_model(hass: HomeAssistant, name: str, data: Any, end: datetime) -> dict[str, Any]:
    """A home battery: never planned below its reserve (below it already: not lower than now),
    and at the horizon's end at least its end SoC, or as full as it started: stored energy
    still has a value after the horizon, so a plan must not sell it off just because the
    horizon ends."""
    capacity = float(data[CONF_CAPACITY_KWH])
    percent = max(0.0, min(100.0, number_state(hass, data[CONF_SOC_ENTITY])))
    reserve = float(data.get(CONF_RESERVE_SOC, DEFAULT_RESERVE_SOC))
    end_percent = data.get(CONF_END_SOC)
    at_end = max(percent if end_percent is None else float(end_percent), min(reserve, percent))
    return {
        "name": name,
        "type": "storage",
        "soc-at-start": f"{percent / 100 * capacity:.4f} kWh",
        "soc-min": f"{min(reserve, percent) / 100 * capacity:.4f} kWh",
        "soc-max": f"{capacity} kWh",
        "soc-minima": [
            {"datetime": end.isoformat(), "value": f"{min(at_end, 100.0) / 100 * capacity:.4f} kWh"}
        ],
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
        percent = number_state(hass, soc_entity)
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
    # A charger cannot run below its minimum current; one behind a switch runs at full power.
    if switched(data):
        model["on-off"] = True
    elif data.get(CONF_MIN_POWER_KW):
        model["min-power"] = f"{data[CONF_MIN_POWER_KW]} kW"
    plugged = data.get(CONF_PLUGGED_ENTITY)
    if plugged and hass.states.is_state(plugged, "off"):
        model["availability"] = []  # not connected: nothing to plan now
        return model
    departure = next_time_of_day(
        settings.get(CONF_DEPARTURE, data.get(CONF_DEPARTURE, DEFAULT_DEPARTURE)), start
    )
    if departure <= end:
        model["availability"] = [{"start": start.isoformat(), "end": departure.isoformat()}]
        target = float(settings.get(CONF_TARGET_SOC, data.get(CONF_TARGET_SOC, DEFAULT_TARGET_SOC)))
        # At least the target: a car already fuller is not to be emptied, and a charger that
        # runs in whole steps may end above it.
        model["soc-minima"] = [
            {"datetime": departure.isoformat(), "value": f"{target / 100 * capacity:.4f} kWh"}
        ]
    return model


# Control entities that can only start and stop what they control.
SWITCHING_DOMAINS = ("switch", "input_boolean", "select", "input_select")


def switched(data: Any) -> bool:
    """Is the asset controlled by starting and stopping it? Then it is planned on/off."""
    control = data.get(CONF_CONTROL_ENTITY)
    return bool(control) and str(control).split(".", 1)[0] in SWITCHING_DOMAINS


def heat_sink_sensor(data: Any) -> str:
    """The temperature sensor of what a heat pump subentry heats: the tank or the building."""
    return str(
        data[CONF_TANK_ENTITY if data.get(CONF_HEATS) == HEATS_BUFFER else CONF_INDOOR_ENTITY]
    )


def heat_sink_name(heat_pump: str, data: Any) -> str:
    """The heat sink a heat pump subentry heats, as named in the problem and the plan."""
    return f"{heat_pump} {data.get(CONF_HEATS) or 'building'}"


async def heat_pump_models(
    hass: HomeAssistant, name: str, data: Any, steps: list[datetime]
) -> list[dict[str, Any]]:
    """A heat pump and what it heats: a building (first-order thermal model with a comfort
    band) or a hot-water buffer (a tank between a minimum and a maximum temperature)."""
    sink = (
        _buffer(hass, name, data, steps)
        if data.get(CONF_HEATS) == HEATS_BUFFER
        else (await _building(hass, name, data, steps))
    )
    pump: dict[str, Any] = {
        "name": name,
        "type": "heat-pump",
        "heats": sink["name"],
        "power-capacity": f"{data[CONF_POWER_KW]} kW",
        "cop": float(data.get(CONF_COP, 3.0)),
    }
    if switched(data):
        pump["on-off"] = True  # a switch or a mode select runs it at full power or not at all
    elif data.get(CONF_MIN_POWER_KW):
        pump["min-power"] = f"{data[CONF_MIN_POWER_KW]} kW"
    if starts_and_stops(data) and (rules := run_times(data)):
        pump.update(rules)
        pump.update(_run_state(hass, data, steps[0]))
    return [sink, pump]


def starts_and_stops(data: Any) -> bool:
    """A heat pump planned on or off (a switch or a mode select, or a minimum power)."""
    return switched(data) or bool(data.get(CONF_MIN_POWER_KW))


def run_times(data: Any) -> dict[str, str]:
    """The heat pump's minimum run and pause as flex-model keys (none when not set)."""
    rules = {}
    for key, rule in (
        (CONF_MIN_RUN_MINUTES, "min-run-time"),
        (CONF_MIN_OFF_MINUTES, "min-off-time"),
    ):
        if minutes := data.get(key):
            rules[rule] = f"PT{round(float(minutes))}M"
    return rules


def _run_state(hass: HomeAssistant, data: Any, start: datetime) -> dict[str, str]:
    """Since when the heat pump runs or rests, read off its switch (or mode select): what the
    plan's run times count from. A change within the plan's first step counts from its start
    (the planner's resolution); a control that says neither (unavailable) tells nothing."""
    control = data.get(CONF_CONTROL_ENTITY)
    state = hass.states.get(control) if control else None
    if state is None:
        return {}
    if switched(data):  # it shows what flexems' command to run it, or to stop it, sets
        shown = observed(control, state)
        running = same(shown, command(control, state, data[CONF_POWER_KW], None, data).shows)
        known = running or same(shown, command(control, state, 0.0, None, data).shows)
    else:  # a climate entity (with a minimum power): off, or running as it sees fit
        running, known = False, state.state == HVAC_OFF
    if not known:
        return {}
    since = min(state.last_changed, start).isoformat()
    return {"running-since": since} if running else {"off-since": since}


async def _building(
    hass: HomeAssistant, name: str, data: Any, steps: list[datetime]
) -> dict[str, Any]:
    outdoor = temperature_state(hass, data[CONF_OUTDOOR_ENTITY])
    ambient: Any = outdoor
    if weather := data.get(CONF_WEATHER_ENTITY):
        values = await forecasts.outdoor_temperatures(hass, weather, outdoor, steps)
        ambient = _step_series(steps, values)
    return {
        "name": heat_sink_name(name, data),
        "type": "heat-storage",
        "model": "building",
        "heat-capacity": f"{data[CONF_HEAT_CAPACITY]} kWh/K",
        "heat-loss": f"{data[CONF_HEAT_LOSS]} kW/K",
        "ambient-temperature": ambient,
        "temperature-at-start": temperature_state(hass, heat_sink_sensor(data)),
        "comfort-min": float(data[CONF_COMFORT_MIN]),
        "comfort-max": float(data[CONF_COMFORT_MAX]),
        # People who set a comfort band expect it kept unless heating cannot: at 10 per K·h
        # a dip always costs more than the heat that avoids it at any realistic price.
        "comfort-breach-price": COMFORT_BREACH_PRICE,
    }


def _buffer(hass: HomeAssistant, name: str, data: Any, steps: list[datetime]) -> dict[str, Any]:
    litres = float(data[CONF_TANK_LITRES])
    buffer: dict[str, Any] = {
        "name": heat_sink_name(name, data),
        "type": "heat-storage",
        "model": "buffer",
        "heat-capacity": f"{litres * WATER_KWH_PER_LITRE_K:.5f} kWh/K",
        "heat-loss": f"{float(data.get(CONF_TANK_LOSS_W_PER_K, 2.0)) / 1000:.5f} kW/K",
        "ambient-temperature": TANK_SURROUNDINGS_C,
        "temperature-at-start": temperature_state(hass, heat_sink_sensor(data)),
        "temperature-min": float(data[CONF_TANK_MIN]),
        "temperature-max": float(data[CONF_TANK_MAX]),
        # Tapping spread over the day: the tank must hold enough for it at every step.
        "heat-usage": f"{float(data.get(CONF_HOT_WATER_KWH_PER_DAY, 0.0)) / 24:.4f} kW",
    }
    if data.get(CONF_TANK_TARGET) and steps:
        moment = next_time_of_day(data.get(CONF_TANK_TARGET_TIME, "07:00:00"), steps[0])
        length = _step_length(steps)
        # "At least this warm then": a minimum at the step that ends then, not an optimizer
        # target, which is exact. A tank heated in whole steps by a switched heat pump (5 K a
        # step for 200 l) overshoots any exact value, and the plan showed a breach every day.
        ending = next((i for i, step in enumerate(steps) if step + length >= moment), None)
        if ending is not None:
            minimum: list[float | None] = [None] * len(steps)
            minimum[ending] = float(data[CONF_TANK_TARGET])
            buffer["comfort-min"] = _step_series(steps, minimum)
    return buffer


def appliance_model(
    name: str,
    data: Any,
    run: ApplianceRun,
    start: datetime,
    end: datetime,
    resolution: timedelta,
) -> dict[str, Any] | None:
    """An appliance asked to run once: shiftable between its earliest start and its deadline;
    once started, the rest of its run is fixed from now. None: nothing to plan in this horizon
    (its run is over, or its window opens too late)."""
    profile = appliance_profile(data, resolution)
    steps = (end - start) // resolution
    model: dict[str, Any] = {"name": name, "type": "process"}
    if run.started_at is not None:
        done = (start - _floor(dt_util.as_utc(run.started_at), resolution)) // resolution
        rest = profile[done : done + steps]
        if not rest:
            return None
        model["profile"] = [f"{kw} kW" for kw in rest]
        return model  # INFLEXIBLE: from the plan's start
    earliest, deadline = appliance_window(data, max(start, dt_util.as_utc(run.armed_at)), end)
    first = _ceil(earliest, resolution)
    if first + len(profile) * resolution > end:
        return None
    if deadline is None or first + len(profile) * resolution > _floor(deadline, resolution):
        # Too late to finish by the deadline: run as soon as the horizon allows rather than not.
        deadline = end
    model["earliest-start"] = earliest.isoformat()
    model["deadline"] = deadline.isoformat()
    if data.get(CONF_BREAKABLE):
        model["policy"] = "BREAKABLE"
        model["power"] = f"{max(profile)} kW"
        model["duration"] = _iso_minutes(len(profile) * resolution)
    else:
        model["policy"] = "SHIFTABLE"
        model["profile"] = [f"{kw} kW" for kw in profile]
    return model


def appliance_window(data: Any, now: datetime, end: datetime) -> tuple[datetime, datetime | None]:
    """The run's window: from the earliest start (a time of day; now if inside the window) to
    the next deadline after it (None: no deadline within the horizon)."""
    earliest = now
    if data.get(CONF_EARLIEST_START):
        opens = next_time_of_day(data[CONF_EARLIEST_START], now - timedelta(seconds=1))
        closes = next_time_of_day(data[CONF_DEADLINE], now) if data.get(CONF_DEADLINE) else None
        if closes is None or opens < closes:  # not inside tonight's window yet
            earliest = opens
    deadline = next_time_of_day(data[CONF_DEADLINE], earliest) if data.get(CONF_DEADLINE) else end
    return earliest, deadline if deadline <= end else None


def appliance_profile(data: Any, resolution: timedelta) -> list[float]:
    """The appliance's power per plan step: its quarter-hour profile, or power × duration."""
    if raw := str(data.get(CONF_PROFILE) or "").strip():
        quarters = [float(part) for part in raw.replace(";", ",").split(",") if part.strip()]
    else:
        count = max(1, round(float(data[CONF_DURATION_MINUTES]) / 15))
        quarters = [float(data[CONF_POWER_KW])] * count
    per_step = resolution / PROFILE_STEP
    if per_step <= 1:  # finer steps repeat each quarter hour's power
        repeat = round(1 / per_step)
        return [kw for kw in quarters for _ in range(repeat)]
    group = round(per_step)  # coarser steps keep the energy: the mean of their quarters
    padded = quarters + [0.0] * (-len(quarters) % group)
    return [round(sum(padded[i : i + group]) / group, 4) for i in range(0, len(padded), group)]


def next_time_of_day(clock_time: Any, after: datetime) -> datetime:
    """The next moment, after `after`, at a time of day (local time)."""
    clock = clock_time if isinstance(clock_time, time) else time.fromisoformat(str(clock_time))
    local = dt_util.as_local(after)
    moment = local.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
    if moment <= local:
        moment += timedelta(days=1)
    return dt_util.as_utc(moment)


def _step_series(steps: list[datetime], values: list[Any]) -> dict[str, Any]:
    """A series of one value per plan step, as the problem format writes one."""
    return {
        "start": steps[0].isoformat(),
        "resolution": _iso_minutes(_step_length(steps)),
        "values": values,
    }


def _step_length(steps: list[datetime]) -> timedelta:
    """The plan's resolution; a plan of one step tells none: the default."""
    if len(steps) > 1:
        return steps[1] - steps[0]
    return timedelta(minutes=DEFAULT_RESOLUTION_MINUTES)


def _iso_minutes(step: timedelta) -> str:
    return f"PT{int(step.total_seconds() // 60)}M"


def _ceil(moment: datetime, step: timedelta) -> datetime:
    floored = _floor(moment, step)
    return floored if floored == moment else floored + step


def _floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % step
