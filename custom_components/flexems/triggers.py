"""Re-plan when an input changes meaningfully, not only on the interval.

- new prices: a price sensor's list changes, or Nord Pool publishes (or revises) its prices,
- an EV is plugged in or out,
- a battery's or an EV's state of charge drifts from the plan by more than 5 % of capacity, or a
  heated building or tank by more than 1 K.
The coordinator's request debouncer folds bursts of such changes into one plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .const import (
    CONF_CAPACITY_KWH,
    CONF_NORDPOOL_AREA,
    CONF_NORDPOOL_ENTRY,
    CONF_PLUGGED_ENTITY,
    CONF_SOC_ENTITY,
    LOGGER,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
)
from .coordinator import FlexEmsConfigEntry
from .errors import MissingInputError
from .plans import step_now
from .prices import NORDPOOL_DOMAIN, SOURCE_NORDPOOL
from .problem import heat_sink_name, heat_sink_sensor, price_sensors, price_sources
from .states import temperature_state

SOC_DRIFT_FRACTION: Final = 0.05  # of capacity
TEMPERATURE_DRIFT_K: Final = 1.0
# Nord Pool's entities (unique id "<area>-<key>") that change when it has new prices: tomorrow's
# published, or a day's prices revised.
NORDPOOL_NEWS: Final = ("tomorrow_price_available", "updated_at")


@dataclass(frozen=True)
class PlannedState:
    """An entity measuring a state the plan foresees (energy stored, temperature)."""

    entity_id: str
    device: str  # its name in the plan
    series: str  # the plan's series of that state at each step's end
    read: Callable[[State], float]  # the measured state in the series' unit
    tolerance: float


@callback
def async_track_inputs(hass: HomeAssistant, entry: FlexEmsConfigEntry) -> None:
    coordinator = entry.runtime_data.coordinator

    def replan(reason: str) -> None:
        LOGGER.debug("Re-planning: %s", reason)
        entry.async_create_background_task(
            hass, coordinator.async_request_refresh(), f"flexems re-plan: {reason}"
        )

    def on_change(
        entity_ids: list[str], changed: Callable[[State | None, State], str | None]
    ) -> None:
        """Re-plan when `changed(old, new)` names a reason."""

        @callback
        def state_changed(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            if new is not None and (reason := changed(event.data["old_state"], new)):
                replan(reason)

        if entity_ids:
            entry.async_on_unload(async_track_state_change_event(hass, entity_ids, state_changed))

    for entity_id, attribute in price_sensors(entry.options):

        def prices_changed(old: State | None, new: State, attribute: str = attribute) -> str | None:
            if old is None or old.attributes.get(attribute) != new.attributes.get(attribute):
                return f"new prices from {new.entity_id}"
            return None

        on_change([entity_id], prices_changed)

    on_change(_nordpool_news(hass, entry.options), _state_changed("new prices from Nord Pool"))

    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_EV and (
            plugged := subentry.data.get(CONF_PLUGGED_ENTITY)
        ):
            on_change([plugged], _state_changed(f"{subentry.title} plugged in or out"))

    for measured in _planned_states(hass, entry):

        def drifted(old: State | None, new: State, measured: PlannedState = measured) -> str | None:
            return _off_plan(coordinator.data, coordinator.problem, measured, new)

        on_change([measured.entity_id], drifted)


def _state_changed(reason: str) -> Callable[[State | None, State], str | None]:
    def changed(old: State | None, new: State) -> str | None:
        return reason if old is None or old.state != new.state else None

    return changed


def _nordpool_news(hass: HomeAssistant, options: Any) -> list[str]:
    """Nord Pool's entities that change when it has new prices for the plan's area."""
    if SOURCE_NORDPOOL not in price_sources(options) or not options.get(CONF_NORDPOOL_ENTRY):
        return []
    area = str(options.get(CONF_NORDPOOL_AREA) or "").upper()
    return [
        entity.entity_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), options[CONF_NORDPOOL_ENTRY]
        )
        if entity.platform == NORDPOOL_DOMAIN
        and any(
            entity.unique_id == f"{area}-{key}" or (not area and entity.unique_id.endswith(key))
            for key in NORDPOOL_NEWS
        )
    ]


def _planned_states(hass: HomeAssistant, entry: FlexEmsConfigEntry) -> list[PlannedState]:
    states = []
    for subentry in entry.subentries.values():
        kind, name, data = subentry.subentry_type, subentry.title, subentry.data
        if kind in (SUBENTRY_BATTERY, SUBENTRY_EV) and (soc := data.get(CONF_SOC_ENTITY)):
            capacity = float(data[CONF_CAPACITY_KWH])

            def energy(state: State, capacity: float = capacity) -> float:
                return float(state.state) / 100 * capacity

            states.append(PlannedState(soc, name, "soc_kwh", energy, SOC_DRIFT_FRACTION * capacity))
        elif kind == SUBENTRY_HEAT_PUMP:

            def temperature(state: State) -> float:
                return temperature_state(hass, state.entity_id)

            states.append(
                PlannedState(
                    heat_sink_sensor(data), heat_sink_name(name, data), "temperature_c",
                    temperature,
                    TEMPERATURE_DRIFT_K,
                )
            )  # fmt: skip
    return states


def _off_plan(
    plan: dict[str, Any] | None,
    problem: dict[str, Any] | None,
    measured: PlannedState,
    new: State,
) -> str | None:
    """Why a measured state is off the plan, or None while it is on it.

    On plan: between the current step's planned start and end states, within the tolerance;
    the first step starts where the plan started, at the state measured when it was made.
    """
    if plan is None or problem is None or measured.device not in plan["devices"]:
        return None
    index = step_now(plan, dt_util.utcnow())
    if index is None:
        return None
    try:
        value = measured.read(new)
    except MissingInputError, ValueError:  # unavailable or not a number: nothing to compare
        return None
    series = plan["devices"][measured.device][measured.series]
    begin = series[index - 1] if index > 0 else _state_at_start(problem, measured.device)
    if begin is None:
        return None
    low, high = min(begin, series[index]), max(begin, series[index])
    if low - measured.tolerance <= value <= high + measured.tolerance:
        return None
    return f"{measured.device} is at {value:.2f}, the plan expected {low:.2f} to {high:.2f}"


def _state_at_start(problem: dict[str, Any], device: str) -> float | None:
    """The state a device's plan started from, as the problem gave it ("12.5 kWh" or 20.5)."""
    model = next((m for m in problem["flex-model"] if m["name"] == device), None)
    if model is None:
        return None
    start = model.get("soc-at-start", model.get("temperature-at-start"))
    return None if start is None else float(str(start).split()[0])
