"""Service actions: the current plan as a response, re-planning now, plans for problems given
inline, and pairing an S2 device."""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .client import FlexEmsError, FlexEmsProblemError
from .const import DOMAIN
from .coordinator import SITE, FlexEmsCoordinator
from .errors import MissingInputError
from .problem import async_build_site_problem

ATTR_CONFIG_ENTRY = "config_entry"
ATTR_PROBLEM = "problem"
ATTR_FLEX_MODEL = "flex_model"
ATTR_LABEL = "label"
SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY): cv.string})
SCHEDULE_SCHEMA = SCHEMA.extend({vol.Optional(ATTR_PROBLEM): dict})
DEVICE_SCHEMA = SCHEMA.extend({vol.Required(ATTR_FLEX_MODEL): vol.Any(dict, [dict])})
PAIR_SCHEMA = SCHEMA.extend({vol.Required(ATTR_LABEL): vol.All(cv.string, vol.Length(1, 100))})
# The ad-hoc single-device actions and the flex-model types each accepts.
DEVICE_ACTIONS = {
    "schedule_storage": ("storage",),
    "schedule_heating": ("heat-storage", "heat-pump"),
    "schedule_process": ("process",),
}


def _coordinator(hass: HomeAssistant, call: ServiceCall) -> FlexEmsCoordinator:
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
    coordinator: FlexEmsCoordinator = entry.runtime_data.coordinator
    return coordinator


def _unreachable(coordinator: FlexEmsCoordinator) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="cannot_connect",
        translation_placeholders={"url": coordinator.client.url},
    )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    async def get_plan(call: ServiceCall) -> ServiceResponse:
        """The newest plan, with how old it is and whether it is current: a plan whose step
        for now is missing, or whose re-plan failed since, is `stale`."""
        coordinator = _coordinator(hass, call)
        if coordinator.data is None or coordinator.planned_at is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_plan_yet")
        now = dt_util.utcnow()
        return {
            **coordinator.data,
            "stale": not coordinator.plan_is_current(now),
            "planned_at": coordinator.planned_at.isoformat(),
            "age_s": round((now - coordinator.planned_at).total_seconds(), 1),
        }

    async def replan(call: ServiceCall) -> None:
        await _coordinator(hass, call).async_replan()

    async def plan_for(call: ServiceCall, problem: dict[str, Any]) -> ServiceResponse:
        coordinator = _coordinator(hass, call)
        try:
            plan: ServiceResponse = await coordinator.client.schedule(problem)
        except FlexEmsProblemError as error:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_problem",
                translation_placeholders={"code": error.code, "path": error.path or "-"},
            ) from error
        except FlexEmsError as error:
            raise _unreachable(coordinator) from error
        return plan

    async def entry_problem(call: ServiceCall) -> dict[str, Any]:
        """The entry's own site problem, from now (its prices, limits and assets)."""
        coordinator = _coordinator(hass, call)
        try:
            built = await async_build_site_problem(
                hass, coordinator.config_entry, dt_util.utcnow(), coordinator.settings
            )
        except MissingInputError as error:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key=error.translation_key,
                translation_placeholders=error.placeholders,
            ) from error
        return built.body

    async def schedule(call: ServiceCall) -> ServiceResponse:
        """Plan a site problem given inline, or the entry's own."""
        problem = call.data.get(ATTR_PROBLEM) or await entry_problem(call)
        return await plan_for(call, problem)

    async def schedule_device(call: ServiceCall) -> ServiceResponse:
        """Plan the given device(s) alone, against the entry's prices and limits."""
        allowed = DEVICE_ACTIONS[call.service]
        raw = call.data[ATTR_FLEX_MODEL]
        devices = [dict(raw)] if isinstance(raw, dict) else [dict(d) for d in raw]
        for device in devices:
            device.setdefault("type", allowed[0])
            if device["type"] not in allowed:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="wrong_device_type",
                    translation_placeholders={
                        "type": str(device["type"]),
                        "allowed": ", ".join(allowed),
                    },
                )
        problem = await entry_problem(call)
        problem["flex-model"] = devices
        return await plan_for(call, problem)

    async def pair_s2_device(call: ServiceCall) -> ServiceResponse:
        """A one-time pairing token (15 minutes) for an S2 device of this home, with the
        address the device connects to: for its installer."""
        coordinator = _coordinator(hass, call)
        try:
            return await coordinator.client.pair_s2_device(call.data[ATTR_LABEL], SITE)
        except FlexEmsError as error:
            raise _unreachable(coordinator) from error

    hass.services.async_register(
        DOMAIN, "get_plan", get_plan, schema=SCHEMA, supports_response=SupportsResponse.ONLY
    )
    hass.services.async_register(
        DOMAIN,
        "pair_s2_device",
        pair_s2_device,
        schema=PAIR_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(DOMAIN, "replan", replan, schema=SCHEMA)
    hass.services.async_register(
        DOMAIN,
        "schedule",
        schedule,
        schema=SCHEDULE_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    for action in DEVICE_ACTIONS:
        hass.services.async_register(
            DOMAIN,
            action,
            schedule_device,
            schema=DEVICE_SCHEMA,
            supports_response=SupportsResponse.ONLY,
        )
