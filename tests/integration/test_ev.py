"""An EV: plugged in, a target state of charge by its departure, set through its entities."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from custom_components.flexems.const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_DEPARTURE,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_KW,
    CONF_TARGET_SOC,
    DOMAIN,
    SUBENTRY_EV,
)
from custom_components.flexems.problem import next_time_of_day

from ..api.server import Server
from .conftest import add_asset, entry_for, set_inputs

PLUGGED = "binary_sensor.car_plugged_in"


@pytest.fixture(autouse=True)
async def _a_known_morning(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """03:00 in Los Angeles: departure at 07:00 leaves 4 h, at 09:30 6.5 h, to charge."""
    await hass.config.async_set_time_zone("America/Los_Angeles")
    freezer.move_to("2026-06-01T10:00:00+00:00")


async def with_ev(hass: HomeAssistant, addon: Server, plugged: str = "on"):  # type: ignore[no-untyped-def]
    set_inputs(hass)
    hass.states.async_set(PLUGGED, plugged)
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
            CONF_ASSUMED_SOC: 20,
            CONF_PLUGGED_ENTITY: PLUGGED,
            CONF_TARGET_SOC: 80,
            CONF_DEPARTURE: "07:00:00",
        },
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def get_plan(hass: HomeAssistant, entry_id: str) -> dict:
    return await hass.services.async_call(
        DOMAIN, "get_plan", {"config_entry": entry_id}, blocking=True, return_response=True
    )


def soc_at(plan: dict, name: str, moment: datetime) -> float:
    ends = [*plan["timestamps"][1:], plan["end"]]
    index = next(i for i, end in enumerate(ends) if datetime.fromisoformat(end) >= moment)
    return plan["devices"][name]["soc_kwh"][index]


async def test_the_ev_reaches_its_target_by_departure(hass: HomeAssistant, addon: Server) -> None:
    entry = await with_ev(hass, addon)
    plan = await get_plan(hass, entry.entry_id)
    departure = next_time_of_day("07:00:00", dt_util.utcnow())
    assert soc_at(plan, "car", departure) == pytest.approx(48, abs=1e-3)  # 80 % of 60 kWh
    after = [
        p
        for t, p in zip(plan["timestamps"], plan["devices"]["car"]["power_kw"], strict=True)
        if datetime.fromisoformat(t) >= departure
    ]
    assert all(p == 0 for p in after)  # gone: no charging after departure
    assert hass.states.get("number.car_target_state_of_charge").state == "80.0"
    assert hass.states.get("time.car_departure").state == "07:00:00"
    assert hass.states.get("sensor.car_planned_power") is not None


async def test_changing_the_target_replans(hass: HomeAssistant, addon: Server) -> None:
    entry = await with_ev(hass, addon)
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.car_target_state_of_charge", "value": 50},
        blocking=True,
    )  # fmt: skip
    await hass.async_block_till_done()
    plan = await get_plan(hass, entry.entry_id)
    departure = next_time_of_day("07:00:00", dt_util.utcnow())
    assert soc_at(plan, "car", departure) == pytest.approx(30, abs=1e-3)
    await hass.services.async_call(
        "time", "set_value", {"entity_id": "time.car_departure", "time": "09:30:00"}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get("time.car_departure").state == "09:30:00"
    plan = await get_plan(hass, entry.entry_id)
    later = next_time_of_day(time(9, 30), dt_util.utcnow())
    assert soc_at(plan, "car", later) == pytest.approx(30, abs=1e-3)


async def test_an_unplugged_ev_is_not_planned(hass: HomeAssistant, addon: Server) -> None:
    entry = await with_ev(hass, addon, plugged="off")
    plan = await get_plan(hass, entry.entry_id)
    assert set(plan["devices"]["car"]["power_kw"]) == {0}


def test_departure_is_the_next_such_time_of_day() -> None:
    morning = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
    first = next_time_of_day("07:00:00", morning)
    assert first > morning
    assert next_time_of_day("07:00:00", first) > first  # at the moment itself: the next day


async def test_the_ev_subentry_needs_a_state_of_charge(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_EV), context={"source": config_entries.SOURCE_USER}
    )
    fields = {"name": "van", CONF_CAPACITY_KWH: 75, CONF_POWER_KW: 7.4, CONF_TARGET_SOC: 90,
              CONF_DEPARTURE: "06:30:00"}  # fmt: skip
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], fields)
    assert result["errors"] == {"soc_entity": "soc_needed"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**fields, CONF_ASSUMED_SOC: 40}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert hass.states.get("number.van_target_state_of_charge").state == "90.0"


async def test_target_and_departure_survive_a_restart(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    mock_restore_cache_with_extra_data(
        hass,
        (
            (State("number.car_target_state_of_charge", "60"),
             {"native_value": 60.0, "native_unit_of_measurement": "%", "native_min_value": 0,
              "native_max_value": 100, "native_step": 5}),
            (State("time.car_departure", "09:30:00"), {}),
        ),
    )  # fmt: skip
    entry = await with_ev(hass, addon)
    assert float(hass.states.get("number.car_target_state_of_charge").state) == 60.0
    assert hass.states.get("time.car_departure").state == "09:30:00"
    # Restoring re-plans (the second restore after the debouncer's cooldown).
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    plan = entry.runtime_data.coordinator.data
    departure = next_time_of_day(time(9, 30), dt_util.utcnow())
    assert soc_at(plan, "car", departure) == pytest.approx(36.0, abs=0.01)  # 60 % of 60 kWh
