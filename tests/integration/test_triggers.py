"""Re-planning when inputs change meaningfully: new prices, a SoC off the plan, an EV plugged in."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.flexems.const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_KW,
    DOMAIN,
    SUBENTRY_EV,
)

from ..api.server import Server
from .conftest import SOC_ENTITY, add_asset, entry_for, set_inputs

PLUGGED = "binary_sensor.car_plugged_in"


async def counting_plans(hass: HomeAssistant, addon: Server) -> list:  # type: ignore[type-arg]
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
    plans: list = []  # type: ignore[type-arg]
    hass.bus.async_listen(f"{DOMAIN}_plan_updated", plans.append)
    return plans


async def settle(hass: HomeAssistant) -> None:
    """Past the coordinator's request debouncer, and every task done."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done(wait_background_tasks=True)


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
