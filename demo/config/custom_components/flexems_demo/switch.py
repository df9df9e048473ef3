"""The demo heat pump: on runs it at its full 3 kW."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from . import home as model


async def async_setup_platform(
    hass: HomeAssistant, config: Any, add: AddEntitiesCallback, discovery_info: Any = None
) -> None:
    add([HeatPump(hass.data["flexems_demo"])])


class HeatPump(SwitchEntity):
    _attr_should_poll = False
    _attr_unique_id = "demo_heat_pump"
    _attr_name = "Demo heat pump"

    def __init__(self, home: model.Home) -> None:
        self._home = home
        self.entity_id = "switch.demo_heat_pump"

    @property
    def is_on(self) -> bool:
        return self._home.heat_pump_kw > 0

    async def async_turn_on(self, **kwargs: Any) -> None:
        self._home.heat_pump_kw = 3.0
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._home.heat_pump_kw = 0.0
        self.async_write_ha_state()
