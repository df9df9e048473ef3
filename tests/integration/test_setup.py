"""Set-up with a real add-on: a first plan, entities, actions, outage and recovery, unload."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.flexems.const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_POWER_KW,
    DOMAIN,
    SUBENTRY_EV,
)
from custom_components.flexems.coordinator import EVENT_PLAN_UPDATED
from custom_components.flexems.diagnostics import async_get_config_entry_diagnostics
from custom_components.flexems.plans import MAX_SCHEDULE_ITEMS, schedule, step_now
from flexems_optimizer import schedule as schedule_problem

from ..api.server import Server
from ..s2.peers import RM, FrbcRM, describe_heat_pump, heat_pump_now
from .conftest import PRICE_ENTITY, add_asset, entry_for, set_inputs, settle


async def setup(hass: HomeAssistant, addon: Server, **options: object):  # type: ignore[no-untyped-def]
    set_inputs(hass)
    entry = entry_for(addon, **options)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_first_plan_creates_site_and_battery_entities(
    hass: HomeAssistant, addon: Server
) -> None:
    entry = await setup(hass, addon)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.flexems_planner_plan_status").state == "optimal"
    cost = hass.states.get("sensor.flexems_planner_planned_cost")
    assert cost.attributes["unit_of_measurement"] == hass.config.currency
    power = hass.states.get("sensor.battery_planned_power")
    chart = power.attributes["schedule"]
    plan = entry.runtime_data.coordinator.data
    # From the plan's start to its end, one interval per run of equal values.
    assert (chart[0]["start"], chart[-1]["end"]) == (plan["timestamps"][0], plan["end"])
    assert all(a["end"] == b["start"] and a["value"] != b["value"] for a, b in pairwise(chart))
    assert {"start", "end", "value"} == set(chart[0])
    assert float(power.state) == pytest.approx(chart[0]["value"])
    stored = hass.states.get("sensor.battery_planned_energy_stored")
    assert 0 <= float(stored.state) <= 10
    plan = entry.runtime_data.coordinator.data
    today = dt_util.now().date()
    expected_today = sum(
        cost
        for start, cost in zip(plan["timestamps"], plan["site"]["energy_cost_eur"], strict=True)
        if dt_util.as_local(dt_util.parse_datetime(start)).date() == today
    )
    today_state = hass.states.get("sensor.flexems_planner_planned_cost_today").state
    assert float(today_state) == pytest.approx(expected_today, abs=1e-3)
    assert hass.states.get("sensor.flexems_planner_planned_cost_tomorrow") is not None
    end = hass.states.get("sensor.battery_energy_stored_at_horizon_end")
    assert float(end.state) == pytest.approx(plan["devices"]["battery"]["soc_kwh"][-1])
    change = hass.states.get("sensor.battery_next_change").state
    power = plan["devices"]["battery"]["power_kw"]
    if change not in ("unknown", None):
        index = plan["timestamps"].index(
            dt_util.parse_datetime(change).isoformat().replace("+00:00", "Z")
        )
        assert power[index] != power[0]
    registry = er.async_get(hass)
    battery = registry.async_get("sensor.battery_planned_power")
    assert battery.config_subentry_id == next(iter(entry.subentries))
    solve_time = registry.async_get("sensor.flexems_planner_solve_time")
    assert solve_time.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get("sensor.flexems_planner_solve_time") is None
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED


async def test_a_plan_the_addon_makes_on_its_own_is_pushed_to_the_entities(
    hass: HomeAssistant, addon: Server
) -> None:
    """The add-on re-plans the home's site when something other than Home Assistant changes it
    (an S2 device, a new step): that plan reaches the entities without being asked for."""
    entry = await setup(hass, addon)
    coordinator = entry.runtime_data.coordinator
    assert coordinator.problem is not None
    before = hass.states.get("sensor.battery_energy_stored_at_horizon_end").state
    # The same site with an emptier battery, stored in the add-on by another client.
    changed = copy.deepcopy(coordinator.problem)
    (battery,) = (d for d in changed["flex-model"] if d["name"] == "battery")
    battery["soc-at-start"] = "1 kWh"
    battery["soc-minima"] = [{"datetime": changed["end"], "value": 9}]
    for _ in range(200):  # real seconds: the add-on is another process
        if coordinator.push_connected:
            break
        await asyncio.sleep(0.05)
    reply = await hass.async_add_executor_job(
        lambda: addon.request("PUT", "/api/v1/sites/home", changed)
    )
    assert reply.status == 200
    for _ in range(200):
        await asyncio.sleep(0.05)
        if coordinator.data["devices"]["battery"]["soc_kwh"][-1] >= 9 - 1e-6:
            break
    await hass.async_block_till_done()
    after = hass.states.get("sensor.battery_energy_stored_at_horizon_end").state
    assert float(after) == pytest.approx(9, abs=1e-3) and after != before
    assert coordinator.last_update_success


async def test_get_plan_returns_the_plan_and_replan_asks_again(
    hass: HomeAssistant, addon: Server
) -> None:
    events = async_capture_events(hass, EVENT_PLAN_UPDATED)
    entry = await setup(hass, addon)
    plan = await hass.services.async_call(
        DOMAIN, "get_plan", {"config_entry": entry.entry_id}, blocking=True, return_response=True
    )
    assert plan["status"] == "optimal"
    assert "battery" in plan["devices"]
    await hass.services.async_call(
        DOMAIN, "replan", {"config_entry": entry.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert len(events) >= 1 and events[0].data["entry_id"] == entry.entry_id
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "get_plan", {"config_entry": "nope"}, blocking=True, return_response=True
        )


async def test_addon_down_makes_entities_unavailable_then_recovers(
    hass: HomeAssistant, data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    addon = Server(data_dir)
    try:
        entry = await setup(hass, addon)
        assert hass.states.get("sensor.flexems_planner_plan_status").state == "optimal"
        port = addon.port
        addon.stop()
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=16))
        await settle(hass)
        assert hass.states.get("sensor.flexems_planner_plan_status").state == STATE_UNAVAILABLE
        assert "Cannot reach the flexems add-on" in caplog.text
        addon = Server(data_dir, port=port)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=32))
        await settle(hass)
        assert hass.states.get("sensor.flexems_planner_plan_status").state == "optimal"
        assert "Fetching flexems data recovered" in caplog.text
        assert entry.state is ConfigEntryState.LOADED
    finally:
        addon.stop()


async def test_a_missing_price_sensor_raises_a_repair_issue(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    hass.states.async_remove(PRICE_ENTITY)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.flexems_planner_plan_status").state == "unavailable"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"missing_input_{PRICE_ENTITY}")
    assert issue is not None
    assert issue.translation_key == "missing_input_unavailable"
    assert issue.translation_placeholders == {"entity_id": PRICE_ENTITY}


async def test_diagnostics_redact_the_token(hass: HomeAssistant, addon: Server) -> None:
    entry = await setup(hass, addon)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["entry"]["token"] == "**REDACTED**"
    assert diagnostics["plan"]["status"] == "optimal"
    assert diagnostics["assets"][0]["type"] == "battery"
    # The problem the plan answers, as sent: replaying it gives the same plan.
    replayed = schedule_problem(diagnostics["problem"])
    assert replayed["costs"]["total_eur"] == pytest.approx(
        diagnostics["plan"]["costs"]["total_eur"]
    )


def test_schedules_merge_equal_steps_and_stay_under_16_kib() -> None:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    stamps = [(start + timedelta(minutes=5 * i)).isoformat() for i in range(2016)]
    plan = {"timestamps": stamps, "end": (start + timedelta(days=7)).isoformat()}
    merged = schedule(plan, [1.0, 1.0, 2.0] + [0.0] * 2013)
    assert merged == [
        {"start": stamps[0], "end": stamps[2], "value": 1.0},
        {"start": stamps[2], "end": stamps[3], "value": 2.0},
        {"start": stamps[3], "end": plan["end"], "value": 0.0},
    ]
    busy = schedule(plan, [round(0.123456 * i, 6) for i in range(2016)])  # a week, 5-min steps
    assert len(busy) == MAX_SCHEDULE_ITEMS
    assert len(json.dumps({"schedule": busy}).encode()) < 16 * 1024


async def test_removing_an_asset_removes_its_device_and_entities(
    hass: HomeAssistant, addon: Server
) -> None:
    entry = await setup(hass, addon)
    add_asset(
        hass, entry, SUBENTRY_EV, "car",
        {CONF_CAPACITY_KWH: 60, CONF_POWER_KW: 11, CONF_ASSUMED_SOC: 30},
    )  # fmt: skip
    await hass.async_block_till_done()
    devices, entities = dr.async_get(hass), er.async_get(hass)
    car_id = next(i for i, s in entry.subentries.items() if s.title == "car")
    car = devices.async_get_device_by_identifier((DOMAIN, car_id), entry.entry_id)
    assert car is not None
    assert len(er.async_entries_for_device(entities, car.id)) >= 5  # sensors, switch, settings
    assert hass.config_entries.async_remove_subentry(entry, car_id)
    await hass.async_block_till_done()
    assert devices.async_get_device_by_identifier((DOMAIN, car_id), entry.entry_id) is None
    assert [e for e in er.async_entries_for_config_entry(entities, entry.entry_id)
            if e.config_subentry_id == car_id] == []  # fmt: skip
    assert hass.states.get("sensor.car_planned_power") is None
    assert hass.states.get("sensor.battery_planned_power") is not None
    assert "car" not in entry.runtime_data.coordinator.data["devices"]


async def test_only_a_stale_device_can_be_deleted(
    hass: HomeAssistant, addon: Server, hass_ws_client: WebSocketGenerator
) -> None:
    assert await async_setup_component(hass, "config", {})
    entry = await setup(hass, addon)
    devices = dr.async_get(hass)
    stale = devices.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, "an asset removed long ago")}
    )
    battery = devices.async_get_device_by_identifier(
        (DOMAIN, next(iter(entry.subentries))), entry.entry_id
    )
    client = await hass_ws_client(hass)

    async def remove(device: dr.DeviceEntry) -> dict:  # type: ignore[type-arg]
        await client.send_json_auto_id(
            {"type": "config/device_registry/remove_config_entry",
             "config_entry_id": entry.entry_id, "device_id": device.id}
        )  # fmt: skip
        return await client.receive_json()  # type: ignore[no-any-return]

    assert not (await remove(battery))["success"]
    assert devices.async_get(battery.id) is not None
    assert (await remove(stale))["success"]
    assert devices.async_get(stale.id) is None


async def test_an_s2_device_appears_with_its_planned_power(
    hass: HomeAssistant, addon: Server
) -> None:
    """An S2 device outside flexems' control connects to the add-on: it becomes a device in
    Home Assistant with its planned power (its forecast) and its session state."""
    entry = await setup(hass, addon)
    coordinator = entry.runtime_data.coordinator
    start = coordinator.data["timestamps"][0]
    url = f"ws://127.0.0.1:{addon.port}/api/v1/s2"
    headers = {"Authorization": f"Bearer {addon.token}"}
    session = async_get_clientsession(hass)
    async with session.ws_connect(url, headers=headers) as ws:
        rm = RM(ws)
        await rm.receive()
        await rm.handshake()
        await rm.describe("sauna-7", name="Sauna")
        forecast = await rm.send(
            "PowerForecast", start_time=start, elements=[{
                "duration": 48 * 3600 * 1000, "power_values": [{
                    "commodity_quantity": "ELECTRIC.POWER.3_PHASE_SYMMETRIC",
                    "value_expected": 6000.0}]}],
        )  # fmt: skip
        assert (await rm.status_of(forecast))["status"] == "OK"
        for _ in range(200):  # real time: the add-on re-plans and pushes the plan
            state = hass.states.get("sensor.sauna_planned_power")
            if state is not None and state.state not in ("unknown", "unavailable"):
                break
            await asyncio.sleep(0.05)
        assert float(state.state) == pytest.approx(6.0)
        assert hass.states.get("sensor.sauna_s2_control_type").state == "not_controlable"
        assert hass.states.get("binary_sensor.sauna_connected").state == "on"
    for _ in range(200):  # the RM has gone: the add-on says so
        await asyncio.sleep(0.05)
        if hass.states.get("binary_sensor.sauna_connected").state == "off":
            break
    assert hass.states.get("binary_sensor.sauna_connected").state == "off"
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_s2_sauna-7"), entry.entry_id
    )
    assert device is not None and device.name == "Sauna" and device.serial_number == "sauna-7"


async def test_an_frbc_device_shows_its_fill_level_mode_and_instructions(
    hass: HomeAssistant, addon: Server
) -> None:
    """An FRBC heat pump (the S2 example's) connects: Home Assistant shows how full its buffer
    is, its mode, the instruction flexems sent it and what became of it."""
    entry = await setup(hass, addon)
    url = f"ws://127.0.0.1:{addon.port}/api/v1/s2"
    headers = {"Authorization": f"Bearer {addon.token}"}
    session = async_get_clientsession(hass)

    async def state_of(entity_id: str, ready: Callable[[str], bool]) -> str:
        for _ in range(400):  # real time: the add-on plans, instructs and pushes
            state = hass.states.get(entity_id)
            if state is not None and ready(state.state):
                return state.state
            await asyncio.sleep(0.05)
        raise AssertionError(f"{entity_id}: {hass.states.get(entity_id)}")

    async with session.ws_connect(url, headers=headers) as ws:
        rm = FrbcRM(ws)
        await rm.receive()
        await rm.handshake()
        await rm.describe("boiler-3", name="Boiler", available_control_types=[
            "FILL_RATE_BASED_CONTROL"], instruction_processing_delay=30_000)  # fmt: skip
        await describe_heat_pump(rm, heat_pump_now(fill_level=44.0))  # too cold: heat at once
        instruction = await rm.next_of("FRBC.Instruction")
        known = lambda state: state not in ("unknown", "unavailable")  # noqa: E731
        assert float(await state_of("sensor.boiler_fill_level", known)) == 44.0
        fill = hass.states.get("sensor.boiler_fill_level")
        assert fill.attributes["unit_of_measurement"] == "°C"
        assert fill.attributes["range_min"] == 45.0
        assert await state_of("sensor.boiler_operation_mode", known) == "om1"
        coming = datetime.fromisoformat(await state_of("sensor.boiler_next_instruction", known))
        sent_for = datetime.fromisoformat(instruction["execution_time"])
        assert abs(coming - sent_for) < timedelta(seconds=1)  # the state keeps whole seconds
        assert hass.states.get("sensor.boiler_next_instruction").attributes[
            "operation_mode"] == "om0"  # fmt: skip
        assert await state_of("sensor.boiler_instruction_status", known) == "sent"
        accepted = await rm.send("InstructionStatusUpdate", instruction_id=instruction["id"],
                                 status_type="ACCEPTED",
                                 timestamp=dt_util.utcnow().isoformat())  # fmt: skip
        assert (await rm.status_of(accepted))["status"] == "OK"
        assert await state_of("sensor.boiler_instruction_status", lambda s: s == "accepted")
        plan = entry.runtime_data.coordinator.data
        planned = plan["devices"]["boiler-3"]
        assert max(planned["power_kw"][:4]) >= 0.5  # too cold: it heats within the hour
        now = step_now(plan, dt_util.utcnow())
        assert float(await state_of("sensor.boiler_planned_power", known)) == pytest.approx(
            planned["power_kw"][now]
        )
        # Planned power and fill level as schedules for the plan card.
        power = hass.states.get("sensor.boiler_planned_power").attributes["schedule"]
        assert power[0]["start"] == plan["timestamps"][0]
        level = hass.states.get("sensor.boiler_fill_level").attributes["schedule"]
        assert level[0]["value"] == planned["fill_level"][0]
