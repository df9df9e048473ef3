"""Reading entities' states as the problem needs them, or saying what is wrong with them."""

from __future__ import annotations

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, UnitOfTemperature
from homeassistant.core import HomeAssistant, State
from homeassistant.util.unit_conversion import TemperatureConverter

from .errors import MissingInputError


def usable_state(hass: HomeAssistant, entity_id: str, missing: str = "unavailable") -> State:
    """The entity's state; `missing` is the error's cause when it has none."""
    state = hass.states.get(entity_id)
    if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        raise MissingInputError(entity_id, missing)
    return state


def as_number(state: State) -> float:
    try:
        return float(state.state)
    except ValueError:
        raise MissingInputError(state.entity_id, "not_a_number", state=state.state) from None


def number_state(hass: HomeAssistant, entity_id: str) -> float:
    return as_number(usable_state(hass, entity_id))


def temperature_state(hass: HomeAssistant, entity_id: str) -> float:
    """A temperature sensor's value in °C, whatever unit it reports in."""
    state = usable_state(hass, entity_id)
    value = as_number(state)
    unit = state.attributes.get("unit_of_measurement")
    if unit in (UnitOfTemperature.FAHRENHEIT, UnitOfTemperature.KELVIN):
        return round(TemperatureConverter.convert(value, unit, UnitOfTemperature.CELSIUS), 2)
    return value
