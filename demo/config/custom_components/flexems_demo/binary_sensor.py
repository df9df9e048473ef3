"""Whether the demo's EV is plugged in (17:00 to 7:30)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.util import dt as dt_util

from . import home as model


async def async_setup_platform(
    hass: HomeAssistant, config: Any, add: AddEntitiesCallback, discovery_info: Any = None
) -> None:
    add([Plugged(hass.data["flexems_demo"])])


class Plugged(BinarySensorEntity):
    _attr_should_poll = False
    _attr_unique_id = "demo_ev_plugged_in"
    _attr_name = "Demo EV plugged in"
    _attr_device_class = BinarySensorDeviceClass.PLUG

    def __init__(self, home: model.Home) -> None:
        self._home = home
        self.entity_id = "binary_sensor.demo_ev_plugged_in"

    async def async_added_to_hass(self) -> None:
        self._home.listeners.append(self.async_write_ha_state)

    @property
    def is_on(self) -> bool:
        return model.ev_plugged_in(dt_util.now())
