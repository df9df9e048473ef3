"""Plans are what the device can do: an asset that a switch starts and stops is planned at its
full power or off, and an EV charger never below its minimum power."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.flexems.const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_CONTROL_ENTITY,
    CONF_DEPARTURE,
    CONF_MIN_POWER_KW,
    CONF_POWER_KW,
    CONF_TARGET_SOC,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
)

from ..api.server import Server
from .conftest import add_asset, entry_for, set_inputs
from .test_heat_pump import INDOOR, OUTDOOR, PUMP


async def planned(hass: HomeAssistant, addon: Server, kind: str, name: str, data: dict) -> dict:
    """The plan of a site with the seeded battery and this asset."""
    set_inputs(hass)
    hass.states.async_set(INDOOR, "19.5", {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "0", {"unit_of_measurement": "°C"})
    assert await async_setup_component(hass, "input_boolean", {"input_boolean": {"relay": {}}})
    assert await async_setup_component(
        hass, "input_number",
        {"input_number": {"charger": {"min": 0, "max": 11000, "step": 100,
                                      "unit_of_measurement": "W"}}},
    )  # fmt: skip
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    add_asset(hass, entry, kind, name, data)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plan: dict = entry.runtime_data.coordinator.data
    return plan


async def test_a_heat_pump_behind_a_switch_runs_at_full_power_or_not(
    hass: HomeAssistant, addon: Server
) -> None:
    plan = await planned(
        hass, addon, SUBENTRY_HEAT_PUMP, "heat pump",
        {**PUMP, CONF_CONTROL_ENTITY: "input_boolean.relay"},
    )  # fmt: skip
    power = plan["devices"]["heat pump"]["power_kw"]
    assert set(power) <= {0.0, 3.0}  # never 0.03–0.09 kW that the relay would run at 3 kW
    assert 3.0 in power  # it does heat (19.5 °C, 0 °C outside)
    state = hass.states.get("sensor.heat_pump_planned_power")
    assert float(state.state) in (0.0, 3.0)


async def test_a_heat_pump_with_a_thermostat_still_modulates(
    hass: HomeAssistant, addon: Server
) -> None:
    plan = await planned(hass, addon, SUBENTRY_HEAT_PUMP, "heat pump", PUMP)
    power = plan["devices"]["heat pump"]["power_kw"]
    assert any(0 < p < 3.0 - 1e-6 for p in power)


EV = {CONF_CAPACITY_KWH: 60, CONF_POWER_KW: 11, CONF_ASSUMED_SOC: 40, CONF_TARGET_SOC: 50,
      CONF_DEPARTURE: "07:00:00"}  # fmt: skip


@pytest.mark.parametrize(
    ("control", "minimum", "allowed"),
    [
        ("input_boolean.relay", 1.4, lambda p: p in (0.0, 11.0)),
        ("input_number.charger", 4.1, lambda p: p == 0 or p >= 4.1 - 1e-6),
    ],
)
async def test_an_ev_charger_is_planned_as_it_can_charge(
    hass: HomeAssistant, addon: Server, control: str, minimum: float, allowed: object
) -> None:
    plan = await planned(
        hass, addon, SUBENTRY_EV, "car",
        {**EV, CONF_MIN_POWER_KW: minimum, CONF_CONTROL_ENTITY: control},
    )  # fmt: skip
    power = plan["devices"]["car"]["power_kw"]
    assert sum(power) > 0
    assert all(allowed(p) for p in power)  # type: ignore[operator]
