"""flexems: optimal schedules for home energy flexibility, planned by the flexems add-on."""

from __future__ import annotations

from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.typing import ConfigType

from .card import async_register_card
from .client import FlexEmsClient
from .community import CommunityCoordinator, async_forget_removed, has_communities
from .const import CONF_TOKEN, CONF_URL, DOMAIN, LOGGER
from .coordinator import FlexEmsConfigEntry, FlexEmsCoordinator, FlexEmsRuntimeData
from .services import async_setup_services
from .triggers import async_track_inputs

PLATFORMS = [
    Platform.BINARY_SENSOR, Platform.BUTTON, Platform.NUMBER, Platform.SENSOR, Platform.SWITCH,
    Platform.TIME,
]  # fmt: skip
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    async_setup_services(hass)
    await async_register_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: FlexEmsConfigEntry) -> bool:
    client = FlexEmsClient(
        async_get_clientsession(hass), entry.data[CONF_URL], entry.data.get(CONF_TOKEN, "")
    )
    coordinator = FlexEmsCoordinator(hass, entry, client)
    try:
        await coordinator.async_config_entry_first_refresh()
    except ConfigEntryAuthFailed:
        entry.async_start_reauth(hass)
    except ConfigEntryNotReady as error:
        # Set up without a plan rather than retry later: the entities show that there is
        # none, and applied devices must go to their safe state now, not when a plan comes.
        LOGGER.warning("No plan yet (%s); trying again every minute", error.__cause__ or error)
    entry.runtime_data = FlexEmsRuntimeData(client=client, coordinator=coordinator)
    if has_communities(entry):
        communities = CommunityCoordinator(hass, entry, client)
        # Not fatal: the community's entities are unavailable until the add-on answers.
        await communities.async_refresh()
        communities.follow_hosted()
        entry.runtime_data.communities = communities
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_track_inputs(hass, entry)
    planned_with = _settings(entry)
    subentries = dict(entry.subentries)

    async def reload_on_new_settings(hass: HomeAssistant, entry: FlexEmsConfigEntry) -> None:
        """Assets added, changed or removed, or new options: reload once. A new token or
        address (reauth, reconfigure) reloads through its own flow, not here as well. A
        community's entry removed: leave it (or stop hosting it) first."""
        if _settings(entry) != planned_with:
            await async_forget_removed(client, subentries, dict(entry.subentries))
            await hass.config_entries.async_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(reload_on_new_settings))
    return True


def _settings(entry: FlexEmsConfigEntry) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the entities and plans are made from: the options and the assets."""
    assets = {key: (sub.title, dict(sub.data)) for key, sub in entry.subentries.items()}
    return dict(entry.options), assets


async def async_unload_entry(hass: HomeAssistant, entry: FlexEmsConfigEntry) -> bool:
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: FlexEmsConfigEntry, device: DeviceEntry
) -> bool:
    """A device left from an asset no longer configured may be deleted; the planner and the
    assets still configured stay (removing an asset removes its device with it)."""
    current = {entry.entry_id, *entry.subentries}
    return not any(domain == DOMAIN and key in current for domain, key in device.identifiers)
