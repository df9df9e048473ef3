"""Binary sensors: whether each S2 device is connected to the add-on."""

from __future__ import annotations

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import FlexEmsConfigEntry
from .s2_devices import S2Entity, track_s2_devices

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    track_s2_devices(
        entry, async_add_entities,
        lambda coordinator, resource_id: [
            S2ConnectedSensor(coordinator, resource_id, "s2_connected")
        ],
    )  # fmt: skip


class S2ConnectedSensor(S2Entity, BinarySensorEntity):
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    @property
    def is_on(self) -> bool:
        return bool(self.s2_device.get("connected"))
