"""How a planned value becomes a command for the entity that controls an asset.

- a number (`number`, `input_number`): a power setpoint in W or kW within its min, max and step,
  consumption positive unless the asset says production is positive;
- a select (`select`, `input_select`): the option for charging, discharging or idling;
- a switch (`switch`, `input_boolean`): on while the plan runs the asset;
- a climate entity: its target temperature set to the planned temperature.
Each command also says what the entity shows once it is carried out, so a change by anyone
else can be told apart from our own.

Without a current plan an asset falls back (`fallback`): to idle (0 W, the idle option, off,
a climate entity off), or to the device's own control (what the entity showed before flexems
first changed it, e.g. a thermostat's own target temperature).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID, ATTR_TEMPERATURE, STATE_OFF, STATE_ON
from homeassistant.core import State

from .const import (
    CONF_CHARGE_OPTION,
    CONF_DISCHARGE_OPTION,
    CONF_IDLE_OPTION,
    CONF_SETPOINT_SIGN,
    FALLBACK_IDLE,
    FALLBACK_OWN,
    SIGN_PRODUCTION_POSITIVE,
)

HVAC_OFF: Final = "off"

RUNNING_KW: Final = 0.01  # below this a planned power counts as idle


@dataclass(frozen=True)
class Command:
    domain: str
    service: str
    data: dict[str, Any]
    shows: Any  # what `observed` reads back once the command is carried out


def command(
    entity_id: str, state: State, planned_kw: float, planned_c: float | None, settings: Any
) -> Command:
    """The command that puts `entity_id` at the plan's value for this step."""
    domain = entity_id.split(".", 1)[0]
    target = {ATTR_ENTITY_ID: entity_id}
    if domain in ("number", "input_number"):
        sign = -1.0 if settings.get(CONF_SETPOINT_SIGN) == SIGN_PRODUCTION_POSITIVE else 1.0
        value = setpoint(sign * planned_kw, dict(state.attributes))
        return Command(domain, "set_value", {**target, "value": value}, value)
    if domain in ("select", "input_select"):
        if planned_kw > RUNNING_KW:
            option = settings.get(CONF_CHARGE_OPTION)
        elif planned_kw < -RUNNING_KW:
            option = settings.get(CONF_DISCHARGE_OPTION)
        else:
            option = settings.get(CONF_IDLE_OPTION)
        return Command(domain, "select_option", {**target, "option": option}, option)
    if domain == "climate":
        if planned_c is None:
            raise ValueError(f"{entity_id}: a climate entity controls a heated building only")
        value = setpoint(planned_c, {
            "min": state.attributes.get("min_temp"),
            "max": state.attributes.get("max_temp"),
            "step": state.attributes.get("target_temp_step") or 0.5,
        })  # fmt: skip
        return Command(domain, "set_temperature", {**target, ATTR_TEMPERATURE: value}, value)
    on = abs(planned_kw) > RUNNING_KW
    return Command(domain, "turn_on" if on else "turn_off", target, STATE_ON if on else STATE_OFF)


def fallback(entity_id: str, state: State, mode: str, own: Any, settings: Any) -> Command | None:
    """The command that puts the control entity in its safe state without a plan, or None
    to leave it as it is (also when the device's own setting is unknown)."""
    domain = entity_id.split(".", 1)[0]
    target = {ATTR_ENTITY_ID: entity_id}
    if mode == FALLBACK_IDLE:
        if domain == "climate":
            return Command(domain, "set_hvac_mode", {**target, "hvac_mode": HVAC_OFF}, HVAC_OFF)
        return command(entity_id, state, 0.0, None, settings)
    if mode != FALLBACK_OWN or own is None:
        return None
    if domain == "climate":
        if own == HVAC_OFF:
            return Command(domain, "set_hvac_mode", {**target, "hvac_mode": HVAC_OFF}, HVAC_OFF)
        return Command(domain, "set_temperature", {**target, ATTR_TEMPERATURE: own}, own)
    if domain in ("number", "input_number"):
        return Command(domain, "set_value", {**target, "value": own}, own)
    if domain in ("select", "input_select"):
        return Command(domain, "select_option", {**target, "option": own}, own)
    return Command(domain, "turn_on" if own == STATE_ON else "turn_off", target, own)


def observed(entity_id: str, state: State) -> Any:
    """What the control entity shows now (a climate entity: its target temperature)."""
    domain = entity_id.split(".", 1)[0]
    if domain == "climate":
        return _number(state.attributes.get(ATTR_TEMPERATURE))
    if domain in ("number", "input_number"):
        return _number(state.state)
    return state.state


def carried_out(command: Command, state: State) -> bool:
    """Does the control entity show what `command` sets?"""
    if command.service == "set_hvac_mode":
        return bool(state.state == command.shows)
    return same(observed(state.entity_id, state), command.shows)


def same(shown: Any, expected: Any) -> bool:
    if isinstance(expected, float):
        return isinstance(shown, float) and abs(shown - expected) <= 1e-6
    return bool(shown == expected)


def setpoint(value_kw: float, attributes: dict[str, Any]) -> float:
    """A value in the entity's unit (W when it says so), within its min, max and step."""
    value = value_kw * 1000.0 if attributes.get("unit_of_measurement") == "W" else value_kw
    step = float(attributes.get("step", 0) or 0)
    if step > 0:
        value = round(value / step) * step
    low = attributes.get("min")
    high = attributes.get("max")
    value = max(value, float(low)) if low is not None else value
    value = min(value, float(high)) if high is not None else value
    return round(value, 6)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except TypeError, ValueError:
        return None
