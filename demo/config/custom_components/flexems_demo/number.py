"""The setpoints flexems applies: the battery's power and the EV's charging power (kW)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.number import NumberDeviceClass, NumberEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import home as model


async def async_setup_platform(
    hass: HomeAssistant, config: Any, add: AddEntitiesCallback, discovery_info: Any = None
) -> None:
    home: model.Home = hass.data["flexems_demo"]
    add([
        Setpoint(home, "battery_setpoint", "battery_setpoint_kw", -5.0, 5.0),
        Setpoint(home, "ev_charging_power", "ev_charging_kw", 0.0, 11.0),
    ])  # fmt: skip


class Setpoint(NumberEntity):
    _attr_should_poll = False
    _attr_native_unit_of_measurement = "kW"
    _attr_device_class = NumberDeviceClass.POWER
    _attr_native_step = 0.01

    def __init__(self, home: model.Home, key: str, field: str, low: float, high: float) -> None:
        self._home, self._field = home, field
        self._attr_unique_id = f"demo_{key}"
        self.entity_id = f"number.demo_{key}"
        self._attr_name = f"Demo {key.replace('_', ' ')}"
        self._attr_native_min_value, self._attr_native_max_value = low, high

    @property
    def native_value(self) -> float:
        return float(getattr(self._home, self._field))

    async def async_set_native_value(self, value: float) -> None:
        setattr(self._home, self._field, value)
        self.async_write_ha_state()
