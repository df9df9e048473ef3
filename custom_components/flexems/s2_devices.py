"""S2 devices in Home Assistant: one device each, appearing when its Resource Manager first
connects to the add-on (the coordinator learns the site's S2 devices with every plan)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import FlexEmsConfigEntry, FlexEmsCoordinator

# The S2 control types, in the standard's spelling (NOT_CONTROLABLE sic).
CONTROL_TYPES = [
    "FILL_RATE_BASED_CONTROL", "POWER_ENVELOPE_BASED_CONTROL", "OPERATION_MODE_BASED_CONTROL",
    "POWER_PROFILE_BASED_CONTROL", "DEMAND_DRIVEN_BASED_CONTROL", "NOT_CONTROLABLE",
    "NO_SELECTION",
]  # fmt: skip


class S2Entity(CoordinatorEntity[FlexEmsCoordinator]):
    """An entity of one S2 device of the home, by its resource id."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: FlexEmsCoordinator, resource_id: str, key: str) -> None:
        super().__init__(coordinator)
        entry_id = coordinator.config_entry.entry_id
        self.resource_id = resource_id
        known = coordinator.s2_devices[resource_id]
        self._attr_translation_key = key
        self._attr_unique_id = f"{entry_id}_s2_{resource_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry_id}_s2_{resource_id}")},
            name=known.get("name") or resource_id,
            manufacturer="S2 device",
            model="S2 Resource Manager",
            serial_number=resource_id,
        )

    @property
    def available(self) -> bool:
        return super().available and self.resource_id in self.coordinator.s2_devices

    @property
    def s2_device(self) -> dict[str, Any]:
        return self.coordinator.s2_devices.get(self.resource_id, {})


def is_fill_rate_based(device: dict[str, Any]) -> bool:
    return device.get("control_type") == "FILL_RATE_BASED_CONTROL"


def is_instructed(device: dict[str, Any]) -> bool:
    """A device flexems sends instructions to (FRBC or PEBC)."""
    return device.get("control_type") in ("FILL_RATE_BASED_CONTROL", "POWER_ENVELOPE_BASED_CONTROL")


def track_s2_devices(
    entry: FlexEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities: Callable[[FlexEmsCoordinator, str], Iterable[Entity]],
    wanted: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> None:
    """Add a platform's entities for every S2 device now and for each one that comes later
    (once it is `wanted`: e.g. an FRBC device's fill level once it speaks FRBC)."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new() -> None:
        new = [resource_id for resource_id, device in coordinator.s2_devices.items()
               if resource_id not in known and wanted(device)]  # fmt: skip
        known.update(new)
        for resource_id in new:
            async_add_entities(entities(coordinator, resource_id))

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))
