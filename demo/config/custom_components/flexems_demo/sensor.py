"""The demo home's readings: price (with today's and tomorrow's list), weather, indoor
temperature, household load, PV power and energy, the battery's and the EV's SoC."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.util import dt as dt_util

from . import home as model

DOMAIN = "flexems_demo"


async def async_setup_platform(
    hass: HomeAssistant, config: Any, add: AddEntitiesCallback, discovery_info: Any = None
) -> None:
    home: model.Home = hass.data[DOMAIN]
    add([
        Reading(home, "day_ahead_price", "EUR/kWh", None, lambda h, now: model.price(now),
                prices=True),
        Reading(home, "outdoor_temperature", "°C", SensorDeviceClass.TEMPERATURE,
                lambda h, now: model.outdoor_c(now)),
        Reading(home, "indoor_temperature", "°C", SensorDeviceClass.TEMPERATURE,
                lambda h, now: round(h.indoor_c, 2)),
        Reading(home, "household_load", "kW", SensorDeviceClass.POWER,
                lambda h, now: model.load_kw(now)),
        Reading(home, "pv_power", "kW", SensorDeviceClass.POWER, lambda h, now: model.pv_kw(now)),
        Reading(home, "battery_soc", "%", SensorDeviceClass.BATTERY,
                lambda h, now: round(h.battery_soc, 2)),
        Reading(home, "ev_soc", "%", SensorDeviceClass.BATTERY, lambda h, now: round(h.ev_soc, 2)),
        PvEnergy(home),
    ])  # fmt: skip


class Reading(SensorEntity):
    _attr_should_poll = False
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(
        self, home: model.Home, key: str, unit: str, device_class: SensorDeviceClass | None,
        value: Callable[[model.Home, Any], float], prices: bool = False,
    ) -> None:  # fmt: skip
        self._home, self._value, self._prices = home, value, prices
        self._attr_unique_id = f"demo_{key}"
        self.entity_id = f"sensor.demo_{key}"
        self._attr_name = f"Demo {key.replace('_', ' ')}"
        self._attr_native_unit_of_measurement = unit
        self._attr_device_class = device_class

    async def async_added_to_hass(self) -> None:
        self._home.listeners.append(self.async_write_ha_state)

    @property
    def native_value(self) -> float:
        return self._value(self._home, dt_util.now())

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        return {"prices": self._home.prices_48h(dt_util.now())} if self._prices else None


class PvEnergy(SensorEntity):
    """The PV's energy so far (the energy dashboard's solar source)."""

    _attr_should_poll = False
    _attr_unique_id = "demo_pv_energy"
    _attr_name = "Demo PV energy"
    _attr_native_unit_of_measurement = "kWh"
    _attr_device_class = SensorDeviceClass.ENERGY
    _attr_state_class = SensorStateClass.TOTAL_INCREASING

    def __init__(self, home: model.Home) -> None:
        self._home = home
        self.entity_id = "sensor.demo_pv_energy"
        self._kwh = 0.0

    async def async_added_to_hass(self) -> None:
        self._home.listeners.append(self._tick)

    def _tick(self) -> None:
        self._kwh += model.pv_kw(dt_util.now()) * 10 / 3600
        self.async_write_ha_state()

    @property
    def native_value(self) -> float:
        return round(self._kwh, 4)
