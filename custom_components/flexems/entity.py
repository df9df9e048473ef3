"""The base entity: one device for the planner, one per asset."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import FlexEmsCoordinator


class FlexEmsEntity(CoordinatorEntity[FlexEmsCoordinator]):
    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: FlexEmsCoordinator,
        key: str,
        asset: str | None = None,
        subentry_id: str | None = None,
        kind: str = "battery",
    ) -> None:
        super().__init__(coordinator)
        entry = coordinator.config_entry
        owner = subentry_id or entry.entry_id
        self._attr_unique_id = f"{owner}_{key}"
        self._attr_translation_key = key
        self.asset = asset
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, owner)},
            name=asset or "flexems planner",
            manufacturer="flexems",
            model=kind if asset else "planner",
            entry_type=None if asset else DeviceEntryType.SERVICE,
        )
