"""Re-planning when inputs change meaningfully: new prices (a sensor's list, Nord Pool publishing
tomorrow's), a SoC or a temperature off the plan, an EV plugged in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.flexems import coordinator as coordinator_module
from custom_components.flexems.const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_NORDPOOL_AREA,
    CONF_NORDPOOL_ENTRY,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_KW,
    CONF_PRICE_SOURCE,
    CONF_PRODUCTION_ATTRIBUTE,
    CONF_PRODUCTION_ENTITY,
    CONF_PRODUCTION_SOURCE,
    CONF_SOC_ENTITY,
    DOMAIN,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
)
from custom_components.flexems.coordinator import EVENT_PLAN_UPDATED

from ..api.server import Server
from .conftest import PRICE_ENTITY, SOC_ENTITY, add_asset, entry_for, set_inputs
from .conftest import settle as settle_tasks
from .nord_pool_cloud import NordPoolCloud
from .test_heat_pump import INDOOR, OUTDOOR, PUMP

PLUGGED = "binary_sensor.car_plugged_in"


async def counting_plans(hass: HomeAssistant, addon: Server) -> list[Event]:
    set_inputs(hass)
    hass.states.async_set(PLUGGED, "off")
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    add_asset(
        hass,
        entry,
        SUBENTRY_EV,
        "car",
        {
            CONF_CAPACITY_KWH: 60,
            CONF_POWER_KW: 11,
            CONF_ASSUMED_SOC: 30,
            CONF_PLUGGED_ENTITY: PLUGGED,
        },
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plans = async_capture_events(hass, EVENT_PLAN_UPDATED)
    return plans


async def settle(hass: HomeAssistant) -> None:
    """Every task done, then past the coordinator's request debouncer (1 s), and every task
    done again. The clock jumps only once nothing is in flight: a jump fires every timer that
    falls due, a pending request's timeout too."""
    await settle_tasks(hass)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await settle_tasks(hass)


async def test_new_prices_replan(hass: HomeAssistant, addon: Server) -> None:
    plans = await counting_plans(hass, addon)
    set_inputs(hass, prices=[0.2, 0.1, 0.5] * 16)
    await settle(hass)
    assert len(plans) == 1


async def test_a_soc_off_the_plan_replans_and_a_small_change_does_not(
    hass: HomeAssistant, addon: Server
) -> None:
    plans = await counting_plans(hass, addon)
    hass.states.async_set(SOC_ENTITY, "51", {"unit_of_measurement": "%"})  # 0.1 kWh off: fine
    await settle(hass)
    assert plans == []
    hass.states.async_set(SOC_ENTITY, "95", {"unit_of_measurement": "%"})  # 4.5 kWh off
    await settle(hass)
    assert len(plans) == 1


async def test_plugging_in_an_ev_replans(hass: HomeAssistant, addon: Server) -> None:
    plans = await counting_plans(hass, addon)
    hass.states.async_set(PLUGGED, "on")
    await settle(hass)
    assert len(plans) == 1
    plan = await hass.services.async_call(
        DOMAIN, "get_plan", {"config_entry": plans[0].data["entry_id"]}, blocking=True,
        return_response=True,
    )  # fmt: skip
    assert sum(plan["devices"]["car"]["power_kw"]) > 0  # now it charges


async def test_an_ev_soc_off_the_plan_replans(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    hass.states.async_set("sensor.car_soc", "40", {"unit_of_measurement": "%"})
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    add_asset(
        hass, entry, SUBENTRY_EV, "car",
        {CONF_CAPACITY_KWH: 60, CONF_POWER_KW: 11, CONF_SOC_ENTITY: "sensor.car_soc"},
    )  # fmt: skip
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plans = async_capture_events(hass, EVENT_PLAN_UPDATED)
    hass.states.async_set("sensor.car_soc", "42", {"unit_of_measurement": "%"})  # 1.2 kWh: fine
    await settle(hass)
    assert plans == []
    hass.states.async_set("sensor.car_soc", "70", {"unit_of_measurement": "%"})  # 18 kWh off
    await settle(hass)
    assert len(plans) == 1


async def test_a_building_warmer_than_planned_replans(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    hass.states.async_set(INDOOR, "20.5", {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "2", {"unit_of_measurement": "°C"})
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    add_asset(hass, entry, SUBENTRY_HEAT_PUMP, "heat pump", PUMP)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plans = async_capture_events(hass, EVENT_PLAN_UPDATED)
    hass.states.async_set(INDOOR, "20.8", {"unit_of_measurement": "°C"})  # sensor noise
    hass.states.async_set(INDOOR, "unavailable")  # nothing to compare
    await settle(hass)
    assert plans == []
    # 23 °C (sun through the windows), 2.5 K above the plan; in °F as some sensors report.
    hass.states.async_set(INDOOR, "73.4", {"unit_of_measurement": "°F"})
    await settle(hass)
    assert len(plans) == 1


async def test_new_export_prices_replan(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    hourly = hass.states.get(PRICE_ENTITY).attributes["prices"]

    def feed_in(state: str, value: float) -> None:
        prices = [dict(price, value=value) for price in hourly]
        hass.states.async_set("sensor.feed_in", state, {"prices": prices})

    feed_in("0.05", 0.05)
    entry = entry_for(
        addon,
        **{CONF_PRODUCTION_SOURCE: "sensor", CONF_PRODUCTION_ENTITY: "sensor.feed_in",
           CONF_PRODUCTION_ATTRIBUTE: "prices"},
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plans = async_capture_events(hass, EVENT_PLAN_UPDATED)
    feed_in("0.06", 0.05)
    await settle(hass)
    assert plans == []  # the state moved, the prices did not
    feed_in("0.06", 0.2)
    await settle(hass)
    assert len(plans) == 1


async def test_nord_pool_publishing_tomorrow_replans_at_once(
    hass: HomeAssistant,
    addon: Server,
    freezer: FrozenDateTimeFactory,
    nord_pool: tuple[NordPoolCloud, MockConfigEntry],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cloud, nordpool_entry = nord_pool
    set_inputs(hass)
    entry = entry_for(
        addon,
        **{CONF_PRICE_SOURCE: "nordpool", CONF_NORDPOOL_ENTRY: nordpool_entry.entry_id,
           CONF_NORDPOOL_AREA: "se3"},
    )  # fmt: skip
    # The safety interval far away: only the trigger can bring the new plan.
    monkeypatch.setattr(coordinator_module, "SAFETY_INTERVAL", timedelta(hours=6))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    assert coordinator.data["end"].startswith("2026-06-01T22:00:00")  # today's prices only
    cloud.published.add(date(2026, 6, 2))  # the auction's results, out at 12:45 CET
    freezer.tick(timedelta(hours=1))  # Nord Pool's integration looks again within the hour
    async_fire_time_changed(hass)
    await settle(hass)
    await settle(hass)
    # Re-planned at once, not at flexems' next interval in six hours.
    assert coordinator.data["end"].startswith("2026-06-02T11:00:00")
