"""Service actions: the current plan as a response, and re-planning now."""

from __future__ import annotations

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .const import DOMAIN

ATTR_CONFIG_ENTRY = "config_entry"
SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY): cv.string})


def _coordinator(hass: HomeAssistant, call: ServiceCall):  # type: ignore[no-untyped-def]
    entry_id = call.data[ATTR_CONFIG_ENTRY]
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_entry",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry.runtime_data.coordinator


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    async def get_plan(call: ServiceCall) -> ServiceResponse:
        plan: ServiceResponse = _coordinator(hass, call).data
        return plan

    async def replan(call: ServiceCall) -> None:
        await _coordinator(hass, call).async_request_refresh()

    hass.services.async_register(
        DOMAIN, "get_plan", get_plan, schema=SCHEMA, supports_response=SupportsResponse.ONLY
    )
    hass.services.async_register(DOMAIN, "replan", replan, schema=SCHEMA)
