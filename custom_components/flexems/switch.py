"""Per asset, a switch that applies the plan to the asset's control entity.

At each step boundary (and on every new plan) the control entity, a number holding a power
setpoint (consumption positive, in W or kW), is set to the plan's value for the current step,
within the entity's min, max and step. A change by anyone else pauses applying: the switch
turns off and says why, until the user turns it on again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON
from homeassistant.core import Context, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util import dt as dt_util

from .const import CONF_CONTROL_ENTITY, LOGGER, SUBENTRY_BATTERY
from .coordinator import FlexEmsConfigEntry, FlexEmsCoordinator
from .entity import FlexEmsEntity
from .sensor import step_now

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    for subentry_id, subentry in entry.subentries.items():
        control = subentry.data.get(CONF_CONTROL_ENTITY)
        if subentry.subentry_type == SUBENTRY_BATTERY and control:
            async_add_entities(
                [ApplyPlanSwitch(coordinator, subentry.title, subentry_id, control)],
                config_subentry_id=subentry_id,
            )


def setpoint(planned_kw: float, attributes: dict[str, Any]) -> float:
    """The planned power in the control entity's unit, within its min, max and step."""
    value = planned_kw * 1000.0 if attributes.get("unit_of_measurement") == "W" else planned_kw
    step = float(attributes.get("step", 0) or 0)
    if step > 0:
        value = round(value / step) * step
    low = float(attributes.get("min", value))
    high = float(attributes.get("max", value))
    return round(min(max(value, low), high), 6)


class ApplyPlanSwitch(FlexEmsEntity, SwitchEntity, RestoreEntity):
    _attr_is_on = False

    def __init__(
        self, coordinator: FlexEmsCoordinator, asset: str, subentry_id: str, control: str
    ) -> None:
        super().__init__(coordinator, "apply_plan", asset, subentry_id)
        self.control = control
        self._ours: set[str] = set()  # contexts of our own writes
        self._last_applied: float | None = None
        self._paused_at: datetime | None = None
        self._next_boundary: Any = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            self._attr_is_on = last.state == STATE_ON
        self.async_on_remove(
            async_track_state_change_event(self.hass, [self.control], self._control_changed)
        )
        self.async_on_remove(self._cancel_boundary)
        await self._apply()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {
            "control_entity": self.control,
            "last_applied": self._last_applied,
            "paused_by_user_at": self._paused_at.isoformat() if self._paused_at else None,
        }

    async def async_turn_on(self, **kwargs: Any) -> None:
        self._attr_is_on = True
        self._paused_at = None
        await self._apply()
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        self._attr_is_on = False
        self._cancel_boundary()
        self.async_write_ha_state()

    @callback
    def _handle_coordinator_update(self) -> None:
        super()._handle_coordinator_update()
        self.hass.async_create_task(self._apply())

    async def _apply(self, _now: datetime | None = None) -> None:
        """Set the control entity to this step's planned power; wake at the next step."""
        self._cancel_boundary()
        if not self.is_on or not self.coordinator.last_update_success:
            return
        plan = self.coordinator.data
        now = dt_util.utcnow()
        index = step_now(plan, now)
        state = self.hass.states.get(self.control)
        if index is None or state is None:
            return
        value = setpoint(plan["devices"][self.asset]["power_kw"][index], dict(state.attributes))
        context = Context()
        self._ours.add(context.id)
        self._last_applied = value
        domain = self.control.split(".", 1)[0]
        await self.hass.services.async_call(
            domain,
            "set_value",
            {ATTR_ENTITY_ID: self.control, "value": value},
            blocking=True,
            context=context,
        )
        boundaries = [*plan["timestamps"][index + 1 :], plan["end"]]
        self._next_boundary = async_track_point_in_utc_time(
            self.hass, self._apply, datetime.fromisoformat(boundaries[0]) + timedelta(seconds=1)
        )
        self.async_write_ha_state()

    @callback
    def _control_changed(self, event: Event[EventStateChangedData]) -> None:
        if not self.is_on or event.context.id in self._ours:
            return
        new = event.data["new_state"]
        if new is None or self._last_applied is None:
            return
        try:
            changed = abs(float(new.state) - self._last_applied) > 1e-6
        except ValueError:
            return
        if changed:
            LOGGER.info(
                "%s was changed by hand to %s; applying the plan to %s is paused until turned on",
                self.control,
                new.state,
                self.asset,
            )
            self._attr_is_on = False
            self._paused_at = dt_util.utcnow()
            self._cancel_boundary()
            self.async_write_ha_state()

    @callback
    def _cancel_boundary(self) -> None:
        if self._next_boundary is not None:
            self._next_boundary()
            self._next_boundary = None
