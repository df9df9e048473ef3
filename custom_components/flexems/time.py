"""Per EV, its departure time (the target state of charge is due then)."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .const import CONF_DEPARTURE, DEFAULT_DEPARTURE, SUBENTRY_EV
from .coordinator import FlexEmsConfigEntry, FlexEmsCoordinator
from .entity import EvSettingEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    for subentry_id, subentry in entry.subentries.items():
        if subentry.subentry_type == SUBENTRY_EV:
            default = time.fromisoformat(str(subentry.data.get(CONF_DEPARTURE, DEFAULT_DEPARTURE)))
            async_add_entities(
                [EvDeparture(coordinator, subentry.title, subentry_id, default)],
                config_subentry_id=subentry_id,
            )


class EvDeparture(EvSettingEntity, TimeEntity, RestoreEntity):
    setting = CONF_DEPARTURE

    def __init__(
        self, coordinator: FlexEmsCoordinator, asset: str, subentry_id: str, default: time
    ) -> None:
        super().__init__(coordinator, "departure", asset, subentry_id, default)

    @property
    def native_value(self) -> time:
        value = self._settings[CONF_DEPARTURE]
        return value if isinstance(value, time) else time.fromisoformat(str(value))

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state not in ("unknown", "unavailable"):
            await self._restore(time.fromisoformat(last.state))

    async def async_set_value(self, value: time) -> None:
        await self._change(value)
