"""A button to re-plan now: usable exactly when the plan is missing, so always available."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import FlexEmsConfigEntry
from .entity import FlexEmsEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    async_add_entities([ReplanButton(entry.runtime_data.coordinator, "replan")])


class ReplanButton(FlexEmsEntity, ButtonEntity):
    @property
    def available(self) -> bool:
        return True  # pressing it while the add-on is away tries now and says why it failed

    async def async_press(self) -> None:
        await self.coordinator.async_replan()
