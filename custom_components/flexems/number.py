"""Per EV, its target state of charge at departure (a number the user sets)."""

from __future__ import annotations

from homeassistant.components.number import NumberMode, RestoreNumber
from homeassistant.const import PERCENTAGE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_TARGET_SOC, DEFAULT_TARGET_SOC, SUBENTRY_EV
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
            default = float(subentry.data.get(CONF_TARGET_SOC, DEFAULT_TARGET_SOC))
            async_add_entities(
                [EvTargetSoc(coordinator, subentry.title, subentry_id, default)],
                config_subentry_id=subentry_id,
            )


class EvTargetSoc(EvSettingEntity, RestoreNumber):
    setting = CONF_TARGET_SOC
    _attr_native_min_value = 0
    _attr_native_max_value = 100
    _attr_native_step = 5
    _attr_native_unit_of_measurement = PERCENTAGE
    _attr_mode = NumberMode.SLIDER

    def __init__(
        self, coordinator: FlexEmsCoordinator, asset: str, subentry_id: str, default: float
    ) -> None:
        super().__init__(coordinator, "target_soc", asset, subentry_id, default)

    @property
    def native_value(self) -> float:
        return float(self._settings[CONF_TARGET_SOC])

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_number_data()
        await self._restore(None if last is None else last.native_value)

    async def async_set_native_value(self, value: float) -> None:
        await self._change(value)
