"""The coordinator: plans on its interval, one request to the add-on at a time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .client import (
    FlexEmsAuthError,
    FlexEmsClient,
    FlexEmsConnectionError,
    FlexEmsError,
    FlexEmsProblemError,
)
from .const import CONF_INTERVAL_MINUTES, DEFAULT_INTERVAL, DOMAIN, LOGGER
from .errors import MissingInputError
from .problem import AssetSettings, async_build_site_problem

EVENT_PLAN_UPDATED = f"{DOMAIN}_plan_updated"
# The add-on API this integration speaks, and the oldest add-on that has every field it sends.
ADDON_API: Final = "v1"
MIN_ADDON_VERSION: Final = (0, 1, 0)
# Unreachable this long: more than a restart or an update, worth a repair issue.
UNREACHABLE_ISSUE_AFTER: Final = timedelta(hours=1)
ISSUE_UNREACHABLE: Final = "addon_unreachable"
ISSUE_VERSION: Final = "addon_version"


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
        # Set by flexems' own entities: per EV its target and departure, per appliance its run.
        self.settings = AssetSettings(ev={}, appliances={})
        self._unreachable_since: datetime | None = None
        self.pv_forecasts: dict[str, list[float]] = {}
        # The problem the current plan answers: the states it started from, for drift checks.
        self.problem: dict[str, Any] | None = None
        # One plan at a time; an input that changes while a plan is being made (from the older
        # inputs) gets a plan of its own right after it.
        self._planning = asyncio.Lock()
        self._inputs_changed = False

    async def _async_setup(self) -> None:
        await self._check_addon_version()

    async def _check_addon_version(self) -> None:
        """A repair issue when the add-on is older than this integration needs; none when it
        cannot be asked (the first plan then says why)."""
        try:
            addon = await self.client.version()
        except FlexEmsError:
            return
        if addon.api == ADDON_API and _version(addon.version) >= MIN_ADDON_VERSION:
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_VERSION)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            ISSUE_VERSION,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_VERSION,
            translation_placeholders={
                "version": addon.version,
                "api": addon.api,
                "needed": ".".join(map(str, MIN_ADDON_VERSION)),
                "needed_api": ADDON_API,
            },
        )

    async def async_request_refresh(self) -> None:
        # A request means an input changed. The debouncer drops a request while any refresh
        # runs ("any call is good"), but that refresh may have read the inputs before the
        # change: the flag makes sure a plan made from the changed inputs follows.
        self._inputs_changed = True
        await super().async_request_refresh()

    async def _async_refresh(
        self,
        log_failures: bool = True,
        raise_on_auth_failed: bool = False,
        scheduled: bool = False,
        raise_on_entry_error: bool = False,
    ) -> None:
        await super()._async_refresh(
            log_failures, raise_on_auth_failed, scheduled, raise_on_entry_error
        )
        if self._inputs_changed:
            # Changed while listeners took the plan just made (their request was dropped):
            # ask again once this refresh has let go of the debouncer.
            self.hass.async_create_task(self.async_request_refresh(), eager_start=False)

    async def _async_update_data(self) -> dict[str, Any]:
        async with self._planning:
            self._inputs_changed = False
            plan = await self._plan()
            while self._inputs_changed:
                LOGGER.debug("Inputs changed while planning: planning again")
                self._inputs_changed = False
                plan = await self._plan()
            return plan

    async def _plan(self) -> dict[str, Any]:
        try:
            built = await async_build_site_problem(
                self.hass, self.config_entry, dt_util.utcnow(), self.settings
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
            plan = await self.client.schedule(built.body)
        except FlexEmsAuthError as error:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from error
        except FlexEmsConnectionError as error:
            self._note_unreachable()
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
        if self._unreachable_since is not None:
            self._unreachable_since = None
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_UNREACHABLE)
            await self._check_addon_version()  # it may have come back updated
        self.pv_forecasts = built.pv_kw
        self.problem = built.body
        self.hass.bus.async_fire(
            EVENT_PLAN_UPDATED,
            {
                "entry_id": self.config_entry.entry_id,
                "status": plan["status"],
                "total_eur": plan["costs"]["total_eur"],
            },
        )
        return plan

    def _note_unreachable(self) -> None:
        now = dt_util.utcnow()
        self._unreachable_since = self._unreachable_since or now
        if now - self._unreachable_since >= UNREACHABLE_ISSUE_AFTER:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                ISSUE_UNREACHABLE,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_UNREACHABLE,
                translation_placeholders={
                    "url": self.client.url,
                    "since": self._unreachable_since.isoformat(timespec="minutes"),
                },
            )

    def _clear_input_issues(self) -> None:
        registry = ir.async_get(self.hass)
        for domain, issue_id in list(registry.issues):
            if domain == DOMAIN and issue_id.startswith("missing_input_"):
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)


def _version(text: str) -> tuple[int, ...]:
    """'0.2.1' → (0, 2, 1); anything unparsable counts as oldest."""
    try:
        return tuple(int(part) for part in text.split(".")[:3])
    except ValueError:
        return (0,)
