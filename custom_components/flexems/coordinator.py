"""The coordinator: plans on its interval, one request to the add-on at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .client import FlexEmsAuthError, FlexEmsClient, FlexEmsConnectionError, FlexEmsProblemError
from .const import CONF_INTERVAL_MINUTES, DEFAULT_INTERVAL, DOMAIN, LOGGER
from .problem import MissingInputError, build_site_problem

EVENT_PLAN_UPDATED = f"{DOMAIN}_plan_updated"


@dataclass
class FlexEmsRuntimeData:
    client: FlexEmsClient
    coordinator: FlexEmsCoordinator


type FlexEmsConfigEntry = ConfigEntry[FlexEmsRuntimeData]


class FlexEmsCoordinator(DataUpdateCoordinator[dict[str, Any]]):
    """Holds the latest plan."""

    config_entry: FlexEmsConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: FlexEmsConfigEntry, client: FlexEmsClient
    ) -> None:
        minutes = entry.options.get(CONF_INTERVAL_MINUTES)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=timedelta(minutes=minutes) if minutes else DEFAULT_INTERVAL,
        )
        self.client = client
        # Per EV subentry: target SoC (%) and departure (time of day), set by its entities.
        self.ev_settings: dict[str, dict[str, Any]] = {}

    async def _async_update_data(self) -> dict[str, Any]:
        try:
            problem = build_site_problem(
                self.hass, self.config_entry, dt_util.utcnow(), self.ev_settings
            )
        except MissingInputError as error:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"missing_input_{error.entity_id}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="missing_input",
                translation_placeholders={"entity_id": error.entity_id, "reason": error.reason},
            )
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="missing_input",
                translation_placeholders={"entity_id": error.entity_id, "reason": error.reason},
            ) from error
        self._clear_input_issues()
        try:
            plan = await self.client.schedule(problem)
        except FlexEmsAuthError as error:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from error
        except FlexEmsConnectionError as error:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"error": str(error)},
            ) from error
        except FlexEmsProblemError as error:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_problem",
                translation_placeholders={"error": str(error)},
            ) from error
        self.hass.bus.async_fire(
            EVENT_PLAN_UPDATED,
            {
                "entry_id": self.config_entry.entry_id,
                "status": plan["status"],
                "total_eur": plan["costs"]["total_eur"],
            },
        )
        return plan

    def _clear_input_issues(self) -> None:
        registry = ir.async_get(self.hass)
        for domain, issue_id in list(registry.issues):
            if domain == DOMAIN and issue_id.startswith("missing_input_"):
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
