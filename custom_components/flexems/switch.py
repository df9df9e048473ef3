"""Per controllable asset, a switch that applies the plan; per appliance, a "run once" switch.

Apply plan: at each step boundary (and on every new plan) the asset's control entity is set to
the plan's value for the step (see `controls`). A change by anyone else pauses applying: the
switch turns off and says when, until the user turns it on again. Without a current plan the
last planned value holds until its step ends, then the asset falls back to its safe state.
The user's on/off survives restarts and reloads, whatever the add-on's state was.

Run once: an appliance is planned only when asked to run. Turning the switch on arms it; at its
planned start flexems starts it (through its control entity, if it has one) and the rest of the
run is fixed in later plans; when the run is over the switch turns itself off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON, UnitOfTemperature
from homeassistant.core import (
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.restore_state import ExtraStoredData, RestoreEntity
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter

from . import controls
from .const import (
    CONF_CONTROL_ENTITY,
    CONF_FALLBACK,
    FALLBACK_IDLE,
    FALLBACK_LEAVE,
    FALLBACK_OWN,
    LOGGER,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
)
from .coordinator import FlexEmsConfigEntry, FlexEmsCoordinator
from .entity import FlexEmsEntity, StepBoundaryEntity
from .plans import step_end, step_now
from .problem import ApplianceRun, appliance_profile, heat_sink_name, plan_step
from .sensor import ASSET_SENSORS

PARALLEL_UPDATES = 0
# Assets a plan can be applied to, with their device kind (as the sensors name it).
KINDS = {
    subentry_type: kind
    for subentry_type, (kind, _) in ASSET_SENSORS.items()
    if subentry_type in (SUBENTRY_BATTERY, SUBENTRY_EV, SUBENTRY_HEAT_PUMP)
}
FALLBACK_LOG: Final = {
    FALLBACK_IDLE: "idling it",
    FALLBACK_LEAVE: "leaving it as it is",
    FALLBACK_OWN: "handing it back to its own control",
}


def default_fallback(kind: str) -> str:
    """Batteries and EVs idle; a heat pump goes back to its own control (its thermostat)."""
    return FALLBACK_OWN if kind == KINDS[SUBENTRY_HEAT_PUMP] else FALLBACK_IDLE


# How an appliance is started, by the domain of its control entity.
START_SERVICES = {
    "switch": "turn_on",
    "input_boolean": "turn_on",
    "button": "press",
    "input_button": "press",
    "script": "turn_on",
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    for subentry_id, subentry in entry.subentries.items():
        kind = subentry.subentry_type
        if kind == SUBENTRY_APPLIANCE:
            entity: SwitchEntity = RunOnceSwitch(
                coordinator, subentry.title, subentry_id, dict(subentry.data)
            )
        elif kind in KINDS and subentry.data.get(CONF_CONTROL_ENTITY):
            entity = ApplyPlanSwitch(
                coordinator, subentry.title, subentry_id, dict(subentry.data), KINDS[kind]
            )
        else:
            continue
        async_add_entities([entity], config_subentry_id=subentry_id)


@dataclass
class ApplyPlanData(ExtraStoredData):
    """What an "Apply plan" switch keeps across restarts: the user's choice (not the state
    shown, which is "unavailable" when HA stopped while the add-on was away), when it was
    paused, and the control's own setting from before flexems changed it."""

    asset: str  # the subentry id: an asset deleted and added again starts with applying off
    applying: bool
    paused_at: str | None
    own: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "applying": self.applying,
            "paused_at": self.paused_at,
            "own": self.own,
        }


class ApplyPlanSwitch(FlexEmsEntity, StepBoundaryEntity, SwitchEntity, RestoreEntity):
    """On: the plan drives the asset. Without a current plan (the add-on away, the plan past
    its end) the last planned value holds until its step ends; then the asset falls back to
    its safe state (`CONF_FALLBACK`), once, logged and shown as `fallback_since`."""

    _attr_is_on = False

    def __init__(
        self,
        coordinator: FlexEmsCoordinator,
        asset: str,
        subentry_id: str,
        settings: dict[str, Any],
        kind: str,
    ) -> None:
        super().__init__(coordinator, "apply_plan", asset, subentry_id, kind)
        self.subentry_id = subentry_id
        self.settings = settings
        self.control: str = settings[CONF_CONTROL_ENTITY]
        self.fallback_mode: str = settings.get(CONF_FALLBACK) or default_fallback(kind)
        self._ours: set[str] = set()  # contexts of our own commands
        self._expected: controls.Command | None = None  # the last command sent or kept
        self._paused_at: datetime | None = None
        self._own: Any = None  # the control's setting before flexems first changed it
        self._held_until: datetime | None = None  # end of the step last applied
        self._fallback_since: datetime | None = None

    @property
    def available(self) -> bool:
        return True  # the user's choice stands while the add-on is away

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        extra = await self.async_get_last_extra_data()
        data = extra.as_dict() if extra is not None else {}
        # Restore state is kept by entity id: an asset of the same name added anew would
        # otherwise inherit the old one's choice.
        if data.get("asset") == self.subentry_id:
            self._attr_is_on = bool(data.get("applying"))
            paused = data.get("paused_at")
            self._paused_at = datetime.fromisoformat(paused) if paused else None
            self._own = data.get("own")
        self.async_on_remove(
            async_track_state_change_event(self.hass, [self.control], self._control_changed)
        )
        await self._apply()

    @property
    def extra_restore_state_data(self) -> ApplyPlanData:
        paused = self._paused_at.isoformat() if self._paused_at else None
        return ApplyPlanData(self.subentry_id, self.is_on is True, paused, self._own)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {
            "control_entity": self.control,
            "last_applied": self._expected.shows if self._expected else None,
            "paused_by_user_at": self._paused_at.isoformat() if self._paused_at else None,
            "fallback": self.fallback_mode,
            "fallback_since": (self._fallback_since.isoformat() if self._fallback_since else None),
        }

    async def async_turn_on(self, **kwargs: Any) -> None:
        self._attr_is_on = True
        self._paused_at = None
        self._own = None  # taken again from what the control shows now
        await self._apply()
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._attr_is_on = False
        self._fallback_since = None
        self.async_write_ha_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        super()._handle_coordinator_update()
        self.coordinator.config_entry.async_create_background_task(
            self.hass, self._apply(), f"flexems apply plan to {self.asset}"
        )

    async def _step_started(self, now: datetime) -> None:
        await self._apply()

    async def _apply(self) -> None:
        """Put the control entity at this step's planned value, hold it, or fall back."""
        state = self.hass.states.get(self.control)
        if not self.is_on or state is None:
            return
        now = dt_util.utcnow()
        plan = self.coordinator.data
        if self.coordinator.plan_is_current(now) and self.asset in plan["devices"]:
            index = step_now(plan, now)
            assert index is not None
            planned_kw = plan["devices"][self.asset]["power_kw"][index]
            try:
                command = controls.command(
                    self.control, state, planned_kw, self._planned_temperature(index), self.settings
                )
            except ValueError as error:
                LOGGER.warning("Cannot apply the plan: %s", error)
                return
            if self._fallback_since is not None:
                LOGGER.info("A current plan again: applying it to %s", self.asset)
            self._fallback_since = None
            self._held_until = step_end(plan, index)
            await self._command(command, state)
            return
        if self._held_until is not None and now < self._held_until:
            return  # the last planned value holds until its step ends
        if self._fallback_since is None:
            self._fallback_since = now
            LOGGER.warning(
                "No current plan for %s: %s (%s)",
                self.asset,
                FALLBACK_LOG[self.fallback_mode],
                self.control,
            )
        fallback = controls.fallback(
            self.control, state, self.fallback_mode, self._own, self.settings
        )
        if fallback is None:
            self.async_write_ha_state()
            return
        await self._command(fallback, state)

    async def _command(self, command: controls.Command, state: State) -> None:
        """Carry out `command` unless the control already shows its value."""
        self._expected = command
        if controls.carried_out(command, state):
            self.async_write_ha_state()
            return
        if self._own is None:
            # The device's own setting, to go back to without a plan.
            self._own = controls.observed(self.control, state)
        context = Context()
        self._ours.add(context.id)
        await self.hass.services.async_call(
            command.domain, command.service, command.data, blocking=True, context=context
        )
        self.async_write_ha_state()

    def _planned_temperature(self, index: int) -> float | None:
        """A heated building's planned temperature at the step's end, in HA's unit."""
        sink = self.coordinator.data["devices"].get(heat_sink_name(self.asset or "", self.settings))
        if not sink or "temperature_c" not in sink:
            return None
        return TemperatureConverter.convert(
            sink["temperature_c"][index],
            UnitOfTemperature.CELSIUS,
            self.hass.config.units.temperature_unit,
        )

    @callback
    def _control_changed(self, event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if not self.is_on or event.context.id in self._ours or new is None:
            return
        if self._expected is None or controls.carried_out(self._expected, new):
            return
        LOGGER.info(
            "%s was changed by hand; applying the plan to %s is paused until turned on",
            self.control,
            self.asset,
        )
        self._attr_is_on = False
        self._paused_at = dt_util.utcnow()
        self.async_write_ha_state()


class RunOnceSwitch(FlexEmsEntity, StepBoundaryEntity, SwitchEntity, RestoreEntity):
    """On: the appliance should run once, at the best time in its window."""

    def __init__(
        self, coordinator: FlexEmsCoordinator, asset: str, subentry_id: str, data: dict[str, Any]
    ) -> None:
        super().__init__(coordinator, "run_once", asset, subentry_id, kind="appliance")
        self.subentry_id = subentry_id
        self.data = data
        self.control: str | None = data.get(CONF_CONTROL_ENTITY)

    @property
    def _run(self) -> ApplianceRun | None:
        return self.coordinator.settings.appliances.get(self.subentry_id)

    @property
    def available(self) -> bool:
        return True  # the user can always ask for a run

    @property
    def is_on(self) -> bool:
        return self._run is not None

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        run = self._run
        return {
            "armed_at": run.armed_at.isoformat() if run else None,
            "started_at": run.started_at.isoformat() if run and run.started_at else None,
        }

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state == STATE_ON and self._run is None:
            armed = last.attributes.get("armed_at")
            started = last.attributes.get("started_at")
            self.coordinator.settings.appliances[self.subentry_id] = ApplianceRun(
                armed_at=datetime.fromisoformat(armed) if armed else dt_util.utcnow(),
                started_at=datetime.fromisoformat(started) if started else None,
            )
            await self.coordinator.async_request_refresh()

    async def async_turn_on(self, **kwargs: Any) -> None:
        if self._run is None:
            self.coordinator.settings.appliances[self.subentry_id] = ApplianceRun(
                armed_at=dt_util.utcnow()
            )
            self.async_write_ha_state()
            await self.coordinator.async_request_refresh()

    async def async_turn_off(self, **kwargs: Any) -> None:
        if self.coordinator.settings.appliances.pop(self.subentry_id, None) is not None:
            self.async_write_ha_state()
            await self.coordinator.async_request_refresh()

    @callback
    def _handle_coordinator_update(self) -> None:
        super()._handle_coordinator_update()
        self.coordinator.config_entry.async_create_background_task(
            self.hass, self._follow_run(), f"flexems follow the run of {self.asset}"
        )

    async def _step_started(self, now: datetime) -> None:
        await self._follow_run()

    async def _follow_run(self) -> None:
        """Start the appliance at its planned start; end the run when it is over."""
        run = self._run
        if run is None:
            return
        now = dt_util.utcnow()
        if run.started_at is None:
            device = (self.coordinator.data or {}).get("devices", {}).get(self.asset)
            if not self.coordinator.last_update_success or not device or not device.get("start"):
                return
            start = datetime.fromisoformat(device["start"])
            if start > now:
                return
            run.started_at = start
            LOGGER.info("Starting %s as planned at %s", self.asset, start.isoformat())
            if self.control:
                domain = self.control.split(".", 1)[0]
                await self.hass.services.async_call(
                    domain, START_SERVICES[domain], {ATTR_ENTITY_ID: self.control}, blocking=True
                )
            self.async_write_ha_state()
        step = plan_step(self.coordinator.config_entry.options)
        if now >= run.started_at + len(appliance_profile(self.data, step)) * step:
            LOGGER.info("%s has run; it is planned again when asked to run", self.asset)
            self.coordinator.settings.appliances.pop(self.subentry_id, None)
            self.async_write_ha_state()
            await self.coordinator.async_request_refresh()
