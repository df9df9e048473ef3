"""The coordinator: keeps the home's site in the add-on current (a PUT when an input changes,
and on a safety interval, one at a time) and takes the plans the add-on pushes: the ones it
asked for, and those the add-on makes on its own (a new step, S2 devices); knows whether its
plan is current."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import breaches
from .channels import follow, task_name
from .client import (
    FlexEmsAuthError,
    FlexEmsClient,
    FlexEmsConnectionError,
    FlexEmsError,
    FlexEmsProblemError,
)
from .const import (
    CONF_FIXED_PRICE,
    CONF_PRICE_ENTITY,
    CONF_PRICE_SOURCE,
    CONF_STALE_ISSUE_MINUTES,
    DEFAULT_FIXED_PRICE,
    DEFAULT_STALE_ISSUE_MINUTES,
    DOMAIN,
    LOGGER,
)
from .errors import MissingInputError
from .plans import step_now
from .problem import AssetSettings, async_build_site_problem

if TYPE_CHECKING:
    from .community import CommunityCoordinator

EVENT_PLAN_UPDATED = f"{DOMAIN}_plan_updated"
# The add-on API this integration speaks, and the oldest add-on that has every field it sends.
ADDON_API: Final = "v1"
MIN_ADDON_VERSION: Final = (0, 1, 0)
# Plans come when inputs change, new prices arrive or a state drifts off the plan (triggers.py);
# the interval only catches what no trigger saw. While no plan can be made, try more often.
SAFETY_INTERVAL: Final = timedelta(minutes=15)
RETRY_INTERVAL: Final = timedelta(minutes=1)
# Changes that come in a burst (a new price list and a SoC) make one plan; a change reaches
# the entities within about a second, not after HA's default 10 s cooldown.
REQUEST_COOLDOWN_S: Final = 1.0
# The home's site in the add-on (S2 devices with the service token attach to it too).
SITE: Final = "home"
LISTENER_TASK: Final = task_name("plans")
ISSUE_UNREACHABLE: Final = "addon_unreachable"
ISSUE_VERSION: Final = "addon_version"
ISSUE_PRICES: Final = "prices_not_chosen"
ISSUE_STORE: Final = "addon_store_recovered"


@dataclass
class FlexEmsRuntimeData:
    client: FlexEmsClient
    coordinator: FlexEmsCoordinator
    # The home's communities (community.py), when it takes part in or hosts any.
    communities: CommunityCoordinator | None = None


type FlexEmsConfigEntry = ConfigEntry[FlexEmsRuntimeData]


class FlexEmsCoordinator(DataUpdateCoordinator[dict[str, Any]]):
    """Holds the latest plan."""

    config_entry: FlexEmsConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: FlexEmsConfigEntry, client: FlexEmsClient
    ) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=SAFETY_INTERVAL,
            request_refresh_debouncer=Debouncer(
                hass, LOGGER, cooldown=REQUEST_COOLDOWN_S, immediate=True
            ),
        )
        self.client = client
        # When the newest plan was made; the plan stays in `data` while later ones fail.
        self.planned_at: datetime | None = None
        # Set by flexems' own entities: per EV its target and departure, per appliance its run.
        self.settings = AssetSettings(ev={}, appliances={})
        self._unreachable_since: datetime | None = None
        self.pv_forecasts: dict[str, list[float]] = {}
        # The problem the current plan answers: the states it started from, for drift checks.
        self.problem: dict[str, Any] | None = None
        # What the plan could not keep, per asset and constraint.
        self.breaches: list[breaches.BreachSummary] = []
        # One plan at a time; an input that changes while a plan is being made (from the older
        # inputs) gets a plan of its own right after it.
        self._planning = asyncio.Lock()
        self._inputs_changed = False
        # The problem revision this integration last sent, and when the plan shown was made.
        self._revision: int | None = None
        self._planned_at_addon: str | None = None
        self.push_connected = False  # the add-on's events channel is open
        # The site's S2 devices by resource id (name, control type, connected, ...).
        self.s2_devices: dict[str, dict[str, Any]] = {}

    async def _async_setup(self) -> None:
        self._check_prices_chosen()
        await self._check_addon_version()
        self.config_entry.async_create_background_task(self.hass, self._listen(), LISTENER_TASK)

    async def _listen(self) -> None:
        """Take the plans the add-on makes on its own (a new step, S2 devices) and the home's
        membership of a community as it changes, reconnecting with growing pauses when the
        channel drops. The plans this integration asks for it
        gets by asking (`_plan_in_addon`), so a dropped channel never delays them."""
        await follow(lambda: self.client.site_events(SITE), self._on_event, self._connected)

    def _connected(self, connected: bool) -> None:
        self.push_connected = connected  # the add-on sends its latest plan at once

    def _on_event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "community":
            runtime = getattr(self.config_entry, "runtime_data", None)  # set after the setup
            if runtime is not None and runtime.communities is not None:
                runtime.communities.take_membership(event["community"])
            return
        if "s2_devices" in event:
            self._note_s2_devices(event["s2_devices"])
            if event.get("type") == "s2_devices":
                self.async_update_listeners()
        if (
            event.get("type") != "plan"
            or self._planning.locked()  # one asked for: the planning takes it
            or self._revision is None  # of a problem sent before this start
            or event["revision"] < self._revision
            or event["planned_at"] == self._planned_at_addon  # shown already
        ):
            return
        # A plan the add-on made on its own of the problem this integration sent.
        self._planned_at_addon = event["planned_at"]
        self._take(event["plan"])
        self.planned_at = dt_util.utcnow()
        self.async_set_updated_data(event["plan"])

    def _check_prices_chosen(self) -> None:
        """Until the user says where prices come from, plans use a fixed default price: say so."""
        options = self.config_entry.options
        if any(key in options for key in (CONF_PRICE_SOURCE, CONF_PRICE_ENTITY, CONF_FIXED_PRICE)):
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_PRICES)
            return
        self._raise_issue(
            ISSUE_PRICES,
            ISSUE_PRICES,
            {"price": f"{DEFAULT_FIXED_PRICE:.2f}"},
            ir.IssueSeverity.WARNING,
        )

    async def _check_addon_version(self) -> None:
        """A repair issue when the add-on is older than this integration needs; none when it
        cannot be asked (the first plan then says why)."""
        try:
            addon = await self.client.version()
        except FlexEmsError:
            return
        self._adopt_instance_id(addon.instance_id)
        self._note_store_recovery(addon.store_recovered_to)
        if addon.api == ADDON_API and _version(addon.version) >= MIN_ADDON_VERSION:
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_VERSION)
            return
        self._raise_issue(
            ISSUE_VERSION,
            ISSUE_VERSION,
            {
                "version": addon.version,
                "api": addon.api,
                "needed": ".".join(map(str, MIN_ADDON_VERSION)),
                "needed_api": ADDON_API,
            },
            ir.IssueSeverity.ERROR,
        )

    def _note_store_recovery(self, moved_to: str | None) -> None:
        """The add-on found its job store corrupt at start and began afresh: say so (old plans
        are gone, nothing else is lost) until it runs without needing that."""
        if moved_to is None:
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_STORE)
            return
        self._raise_issue(
            ISSUE_STORE, ISSUE_STORE, {"moved_to": moved_to}, ir.IssueSeverity.WARNING
        )

    def _adopt_instance_id(self, instance_id: str | None) -> None:
        """Entries made before add-ons had an instance id take it as their unique id, so a
        second entry for the same add-on under another address is refused."""
        entry = self.config_entry
        if not instance_id or entry.unique_id == instance_id:
            return
        taken = self.hass.config_entries.async_entry_for_domain_unique_id(DOMAIN, instance_id)
        if taken is None:
            self.hass.config_entries.async_update_entry(entry, unique_id=instance_id)

    async def async_request_refresh(self) -> None:
        # A request means an input changed. The debouncer drops a request while a refresh
        # runs ("any call is good"), but that refresh may have read the inputs before the
        # change: the flag makes `_async_update_data` plan again from the changed inputs.
        self._inputs_changed = True
        await super().async_request_refresh()

    async def async_replan(self) -> None:
        """Plan now; raises a translated HomeAssistantError when no plan could be made."""
        self._inputs_changed = True
        await self.async_refresh()
        if self.last_update_success:
            return
        cause = self.last_exception
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=getattr(cause, "translation_key", None) or "no_plan",
            translation_placeholders=getattr(cause, "translation_placeholders", None),
        ) from cause

    def plan_is_current(self, now: datetime) -> bool:
        """The newest plan succeeded and has a step for `now`."""
        return (
            self.last_update_success
            and self.data is not None
            and step_now(self.data, now) is not None
        )

    async def _async_update_data(self) -> dict[str, Any]:
        async with self._planning:
            self._inputs_changed = False
            try:
                plan = await self._plan()
                while self._inputs_changed:
                    LOGGER.debug("Inputs changed while planning: planning again")
                    self._inputs_changed = False
                    plan = await self._plan()
            except Exception:
                self.update_interval = RETRY_INTERVAL
                raise
            self.update_interval = SAFETY_INTERVAL
            self.planned_at = dt_util.utcnow()
            return plan

    async def _plan(self) -> dict[str, Any]:
        try:
            built = await async_build_site_problem(
                self.hass, self.config_entry, dt_util.utcnow(), self.settings
            )
        except MissingInputError as error:
            self._raise_issue(
                f"missing_input_{error.entity_id}",
                error.translation_key,
                error.placeholders,
                ir.IssueSeverity.ERROR,
            )
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=error.translation_key,
                translation_placeholders=error.placeholders,
            ) from error
        self._clear_input_issues()
        try:
            plan = await self._plan_in_addon(built.body)
        except FlexEmsAuthError as error:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from error
        except FlexEmsConnectionError as error:
            self._note_unreachable()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="cannot_connect",
                translation_placeholders={"url": self.client.url},
            ) from error
        except FlexEmsProblemError as error:
            LOGGER.debug("The add-on refused the site problem: %s", error)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="invalid_problem",
                translation_placeholders={"code": error.code, "path": error.path or "-"},
            ) from error
        if self._unreachable_since is not None:
            self._unreachable_since = None
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_UNREACHABLE)
            await self._check_addon_version()  # it may have come back updated
        self.pv_forecasts = built.pv_kw
        self.problem = built.body
        self._take(plan)
        return plan

    async def _plan_in_addon(self, problem: dict[str, Any]) -> dict[str, Any]:
        """Keep the site in the add-on and get the plan of this problem."""
        try:
            self._revision = await self.client.put_site(SITE, problem)
        except FlexEmsProblemError as error:
            if error.code != "not_found":
                raise
            return await self.client.schedule(problem)  # an add-on before 0.3: no sites
        made = await self.client.site_plan(SITE, self._revision)
        self._planned_at_addon = made.planned_at
        self._note_s2_devices(made.s2_devices)
        return made.plan

    def _note_s2_devices(self, devices: list[dict[str, Any]]) -> None:
        self.s2_devices = {device["resource_id"]: device for device in devices}

    def _take(self, plan: dict[str, Any]) -> None:
        """What follows a new plan: its breaches as repair issues, and the event."""
        self.breaches = breaches.summarize_for(self.config_entry, plan)
        breaches.async_update_issues(self.hass, self.breaches)
        self.hass.bus.async_fire(
            EVENT_PLAN_UPDATED,
            {
                "entry_id": self.config_entry.entry_id,
                "status": plan["status"],
                "total_eur": plan["costs"]["total_eur"],
            },
        )

    def _note_unreachable(self) -> None:
        now = dt_util.utcnow()
        self._unreachable_since = self._unreachable_since or now
        minutes = self.config_entry.options.get(
            CONF_STALE_ISSUE_MINUTES, DEFAULT_STALE_ISSUE_MINUTES
        )
        if now - self._unreachable_since >= timedelta(minutes=minutes):
            self._raise_issue(
                ISSUE_UNREACHABLE,
                ISSUE_UNREACHABLE,
                {
                    "url": self.client.url,
                    "since": self._unreachable_since.isoformat(timespec="minutes"),
                },
                ir.IssueSeverity.ERROR,
            )

    def _raise_issue(
        self,
        issue_id: str,
        translation_key: str,
        placeholders: dict[str, str],
        severity: ir.IssueSeverity,
    ) -> None:
        """A repair issue of this integration (not fixable here: its text says what to do)."""
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=severity,
            translation_key=translation_key,
            translation_placeholders=placeholders,
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
