"""The base entity: one device for the planner, one per asset."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.event import async_track_utc_time_change
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import FlexEmsCoordinator
from .problem import plan_step


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


class StepBoundaryEntity(CoordinatorEntity[FlexEmsCoordinator]):
    """Wakes at each plan step boundary (step lengths divide the hour), `_boundary_second`
    seconds after it. By default it writes its state there: an entity that shows the plan's
    value now would otherwise show the step before's until the next plan comes."""

    _boundary_second = 1  # controls act once the new step has surely begun

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        minutes = int(plan_step(self.coordinator.config_entry.options).total_seconds() // 60)
        self.async_on_remove(
            async_track_utc_time_change(
                self.hass,
                self._step_started,
                minute=list(range(0, 60, minutes)),
                second=self._boundary_second,
            )
        )

    async def _step_started(self, now: datetime) -> None:
        self.async_write_ha_state()


class EvSettingEntity(FlexEmsEntity):
    """An EV setting the user changes (target SoC, departure), kept in the coordinator where
    the site problem reads it; restoring or changing it re-plans."""

    setting: str

    def __init__(
        self, coordinator: FlexEmsCoordinator, key: str, asset: str, subentry_id: str, default: Any
    ) -> None:
        super().__init__(coordinator, key, asset, subentry_id, kind="EV")
        self._settings = coordinator.settings.ev.setdefault(subentry_id, {})
        self._settings.setdefault(self.setting, default)

    @property
    def available(self) -> bool:
        return True  # a setting, not a reading: always editable

    async def _restore(self, value: Any) -> None:
        if value is not None and value != self._settings[self.setting]:
            self._settings[self.setting] = value
            await self.coordinator.async_request_refresh()

    async def _change(self, value: Any) -> None:
        self._settings[self.setting] = value
        self.async_write_ha_state()
        await self.coordinator.async_request_refresh()
