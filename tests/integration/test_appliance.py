"""A shiftable appliance: asked to run once, planned in its cheapest window, started at its
planned start through its control entity, and done when its run is over."""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.flexems.const import (
    CONF_BREAKABLE,
    CONF_CONTROL_ENTITY,
    CONF_DEADLINE,
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
    CONF_POWER_KW,
    CONF_PROFILE,
    SUBENTRY_APPLIANCE,
)
from custom_components.flexems.problem import ApplianceRun, appliance_model, appliance_profile

from ..api.server import Server
from .conftest import entry_for, set_inputs, settle

NOW = datetime.fromisoformat("2026-06-01T10:07:00+00:00")
RUN_ONCE = "switch.dishwasher_run_once"
START = "input_boolean.dishwasher_remote_start"


async def add_dishwasher(hass: HomeAssistant, addon: Server):  # type: ignore[no-untyped-def]
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"dishwasher_remote_start": {}}}
    )
    set_inputs(hass)  # hourly prices from 10:00: 0.30, 0.10, 0.10, 0.40, 0.45, 0.30, ...
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_APPLIANCE), context={"source": config_entries.SOURCE_USER}
    )
    flow = result["flow_id"]
    configure = hass.config_entries.subentries.async_configure
    result = await configure(flow, {"name": "dishwasher", CONF_PROFILE: "2, x"})
    assert result["errors"] == {CONF_PROFILE: "profile"}
    result = await configure(flow, {"name": "dishwasher", CONF_PROFILE: "2, -1"})
    assert result["errors"] == {CONF_PROFILE: "profile"}  # no negative power
    result = await configure(flow, {"name": "dishwasher", CONF_POWER_KW: 2})
    assert result["errors"] == {CONF_POWER_KW: "power_or_profile"}
    result = await configure(
        flow, {"name": "dishwasher", CONF_PROFILE: "2, 1", CONF_BREAKABLE: True}
    )
    assert result["errors"] == {CONF_BREAKABLE: "breakable_profile"}
    result = await configure(
        flow,
        {"name": "dishwasher", CONF_POWER_KW: 2, CONF_DURATION_MINUTES: 60,
         CONF_BREAKABLE: False, CONF_CONTROL_ENTITY: START},
    )  # fmt: skip
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return entry


async def test_run_once_plans_the_cheapest_hour_starts_it_and_ends(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    entry = await add_dishwasher(hass, addon)
    assert hass.states.get(RUN_ONCE).state == "off"
    assert "dishwasher" not in entry.runtime_data.coordinator.data["devices"]
    assert float(hass.states.get("sensor.dishwasher_planned_power").state) == 0.0

    await hass.services.async_call("switch", "turn_on", {"entity_id": RUN_ONCE}, blocking=True)
    await hass.async_block_till_done()
    planned = hass.states.get("sensor.dishwasher_planned_start").state
    assert datetime.fromisoformat(planned) == datetime.fromisoformat("2026-06-01T11:00:00+00:00")
    assert hass.states.get(START).state == "off"

    freezer.move_to("2026-06-01T11:00:01+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(START).state == "on"  # started through its remote start
    assert hass.states.get(RUN_ONCE).attributes["started_at"].startswith("2026-06-01T11:00")
    await entry.runtime_data.coordinator.async_refresh()  # a re-plan keeps the run where it is
    power = entry.runtime_data.coordinator.data["devices"]["dishwasher"]["power_kw"]
    assert power[:4] == [2.0, 2.0, 2.0, 2.0] and sum(power) == 8.0

    # The run ends as the coordinator's scheduled re-plan (a background task) is under way
    # with the run still in its inputs: the plan that lands must be one made without it.
    freezer.move_to("2026-06-01T12:00:01+00:00")
    async_fire_time_changed(hass)
    await settle(hass)
    assert hass.states.get(RUN_ONCE).state == "off"
    assert "dishwasher" not in entry.runtime_data.coordinator.data["devices"]


async def test_a_run_asked_for_during_a_scheduled_plan_is_planned(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    entry = await add_dishwasher(hass, addon)
    coordinator = entry.runtime_data.coordinator
    # The planning interval is up: the scheduled plan (a background task) reads the inputs,
    # then waits for the add-on, holding the coordinator's request debouncer.
    freezer.tick(timedelta(minutes=15))
    async_fire_time_changed(hass)
    # Asked now, the run's own request is dropped by the debouncer ("a refresh is running").
    await hass.services.async_call("switch", "turn_on", {"entity_id": RUN_ONCE}, blocking=True)
    await settle(hass)
    assert "dishwasher" in coordinator.data["devices"]


async def test_turning_run_once_off_unplans_it(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(NOW)
    entry = await add_dishwasher(hass, addon)
    await hass.services.async_call("switch", "turn_on", {"entity_id": RUN_ONCE}, blocking=True)
    await hass.async_block_till_done()
    assert "dishwasher" in entry.runtime_data.coordinator.data["devices"]
    await hass.services.async_call("switch", "turn_off", {"entity_id": RUN_ONCE}, blocking=True)
    freezer.tick(timedelta(seconds=11))  # past the re-plan debouncer's cooldown
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(RUN_ONCE).state == "off"
    assert "dishwasher" not in entry.runtime_data.coordinator.data["devices"]


async def test_the_window_and_profiles(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    step = timedelta(minutes=15)
    night = {CONF_POWER_KW: 2, CONF_DURATION_MINUTES: 60, CONF_EARLIEST_START: "22:00:00",
             CONF_DEADLINE: "07:00:00"}  # fmt: skip
    start = datetime.fromisoformat("2026-06-01T10:00:00+00:00")  # 12:00 in Amsterdam
    end = start + timedelta(hours=24)
    model = appliance_model("dw", night, ApplianceRun(armed_at=start), start, end, step)
    assert model is not None
    assert model["earliest-start"] == "2026-06-01T20:00:00+00:00"  # 22:00 local tonight
    assert model["deadline"] == "2026-06-02T05:00:00+00:00"  # 07:00 local tomorrow
    inside = datetime.fromisoformat("2026-06-01T23:00:00+00:00")  # 01:00: inside the window
    model = appliance_model(
        "dw", night, ApplianceRun(armed_at=inside), inside, inside + timedelta(hours=24), step
    )
    assert model is not None and model["earliest-start"] == inside.isoformat()
    late = datetime.fromisoformat("2026-06-02T04:30:00+00:00")  # 06:30: cannot finish by 07:00
    model = appliance_model(
        "dw", night, ApplianceRun(armed_at=late), late, late + timedelta(hours=24), step
    )
    assert model is not None and model["deadline"] == (late + timedelta(hours=24)).isoformat()
    assert (
        appliance_model("dw", night, ApplianceRun(armed_at=start), start, start + step, step)
        is None
    )
    breakable = {CONF_POWER_KW: 1.5, CONF_DURATION_MINUTES: 45, CONF_BREAKABLE: True}
    model = appliance_model("dw", breakable, ApplianceRun(armed_at=start), start, end, step)
    assert model is not None and (model["policy"], model["power"], model["duration"]) == (
        "BREAKABLE",
        "1.5 kW",
        "PT45M",
    )
    washer = {CONF_PROFILE: "2, 2, 0.2, 0.2, 1"}
    assert appliance_profile(washer, timedelta(minutes=30)) == [2.0, 0.2, 0.5]  # energy kept
    assert appliance_profile(washer, timedelta(minutes=5))[:4] == [2.0, 2.0, 2.0, 2.0]
