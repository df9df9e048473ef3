"""Re-plan when an input changes meaningfully, not only on the interval.

- the price sensor's price list changes (new day-ahead prices),
- an EV is plugged in or out,
- a battery's state of charge drifts from the plan by more than a few percent of capacity.
The coordinator's request debouncer folds bursts of such changes into one plan.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .const import (
    CONF_CAPACITY_KWH,
    CONF_PLUGGED_ENTITY,
    CONF_PRICE_ATTRIBUTE,
    CONF_PRICE_ENTITY,
    CONF_SOC_ENTITY,
    LOGGER,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
)
from .coordinator import FlexEmsConfigEntry
from .sensor import step_now

SOC_DRIFT_FRACTION = 0.05  # of capacity


@callback
def async_track_inputs(hass: HomeAssistant, entry: FlexEmsConfigEntry) -> None:
    coordinator = entry.runtime_data.coordinator

    def replan(reason: str) -> None:
        LOGGER.debug("Re-planning: %s", reason)
        hass.async_create_task(coordinator.async_request_refresh())

    if price_entity := entry.options.get(CONF_PRICE_ENTITY):
        attribute = entry.options.get(CONF_PRICE_ATTRIBUTE, "prices")

        @callback
        def prices_changed(event: Event[EventStateChangedData]) -> None:
            old, new = event.data["old_state"], event.data["new_state"]
            if new is not None and (
                old is None or old.attributes.get(attribute) != new.attributes.get(attribute)
            ):
                replan(f"new prices from {price_entity}")

        entry.async_on_unload(async_track_state_change_event(hass, price_entity, prices_changed))

    for subentry in entry.subentries.values():
        data = subentry.data
        if subentry.subentry_type == SUBENTRY_EV and (plugged := data.get(CONF_PLUGGED_ENTITY)):

            @callback
            def plug_changed(
                event: Event[EventStateChangedData], name: str = subentry.title
            ) -> None:
                old, new = event.data["old_state"], event.data["new_state"]
                if new is not None and (old is None or old.state != new.state):
                    replan(f"{name} plugged {'in' if new.state == 'on' else 'out'}")

            entry.async_on_unload(async_track_state_change_event(hass, plugged, plug_changed))
        if subentry.subentry_type == SUBENTRY_BATTERY:
            capacity = float(data[CONF_CAPACITY_KWH])

            @callback
            def soc_changed(
                event: Event[EventStateChangedData],
                name: str = subentry.title,
                capacity: float = capacity,
            ) -> None:
                new = event.data["new_state"]
                plan = coordinator.data
                if new is None or plan is None or name not in plan["devices"]:
                    return
                index = step_now(plan, dt_util.utcnow())
                try:
                    measured = float(new.state) / 100 * capacity
                except ValueError:
                    return
                if index is None:
                    return
                # On plan: between the step's planned start and end states (the first step's
                # start is its end less the planned energy), within the tolerance.
                soc = plan["devices"][name]["soc_kwh"]
                step_h = (
                    (
                        datetime.fromisoformat(plan["end"]) - datetime.fromisoformat(plan["start"])
                    ).total_seconds()
                    / 3600
                    / len(soc)
                )
                power = plan["devices"][name]["power_kw"][index]
                begin = soc[index - 1] if index > 0 else soc[0] - power * step_h
                low, high = min(begin, soc[index]), max(begin, soc[index])
                tolerance = SOC_DRIFT_FRACTION * capacity
                if not low - tolerance <= measured <= high + tolerance:
                    replan(
                        f"{name} is at {measured:.2f} kWh, the plan expected "
                        f"{low:.2f} to {high:.2f}"
                    )

            entry.async_on_unload(
                async_track_state_change_event(hass, data[CONF_SOC_ENTITY], soc_changed)
            )
