"""Plans say what they cost and what they cannot keep: penalties are not money, breaches are
listed and raised as repair issues in the asset's own terms; a battery keeps its reserve and
does not end the horizon emptier than it started."""

from __future__ import annotations

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.flexems.const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_DEPARTURE,
    CONF_END_SOC,
    CONF_POWER_KW,
    CONF_RESERVE_SOC,
    CONF_TARGET_SOC,
    DOMAIN,
    SUBENTRY_EV,
)

from ..api.server import Server
from .conftest import add_asset, entry_for, set_inputs

ISSUE = "breach_car_soc-targets"


@pytest.fixture(autouse=True)
async def _a_known_morning(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """03:00 in Los Angeles: four hours to charge before a 07:00 departure."""
    await hass.config.async_set_time_zone("America/Los_Angeles")
    freezer.move_to("2026-06-01T10:00:00+00:00")


async def test_an_unreachable_ev_target_is_a_breach_not_a_cost(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    # 4 h at 3 kW from 20 % of 60 kWh reaches 20 % + 12/0.95... at most about 39 %, not 80 %.
    car = {CONF_CAPACITY_KWH: 60, CONF_POWER_KW: 3, CONF_ASSUMED_SOC: 20,
           CONF_TARGET_SOC: 80, CONF_DEPARTURE: "07:00:00"}  # fmt: skip
    add_asset(hass, entry, SUBENTRY_EV, "car", car)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plan = entry.runtime_data.coordinator.data
    assert plan["status"] == "relaxed"
    assert plan["costs"]["breach_eur"] > 1000  # the optimizer's penalty...
    cost = float(hass.states.get("sensor.flexems_planner_planned_cost").state)
    # ...is not money: the planned cost is what energy and peaks cost.
    assert cost == pytest.approx(plan["costs"]["energy_eur"] + plan["costs"]["peak_eur"], abs=1e-3)
    assert cost < 100
    status = hass.states.get("sensor.flexems_planner_plan_status")
    assert status.state == "relaxed"
    assert status.attributes["breached"] == ["car: soc-targets"]
    breaches = hass.states.get("sensor.flexems_planner_constraint_breaches")
    assert breaches.state == "1"
    [listed] = breaches.attributes["breaches"]
    assert listed["asset"] == "car" and listed["unit"] == "%" and listed["limit"] == 80
    reachable = 20 + 3 * 4 * 0.95 / 60 * 100  # charging efficiency 95 %
    assert listed["value"] == pytest.approx(reachable, abs=0.1)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, ISSUE)
    assert issue is not None and issue.translation_key == "breach_target"
    assert issue.translation_placeholders["limit"] == "80"
    assert issue.translation_placeholders["value"] == f"{round(reachable, 1):g}"
    assert issue.translation_placeholders["at"] == "2026-06-01 07:00"  # local time
    # A reachable target: the plan is optimal again and the issue goes.
    await hass.services.async_call(
        "number", "set_value", {"entity_id": "number.car_target_state_of_charge", "value": 35},
        blocking=True,
    )  # fmt: skip
    await entry.runtime_data.coordinator.async_replan()
    await hass.async_block_till_done()
    assert hass.states.get("sensor.flexems_planner_plan_status").state == "optimal"
    assert hass.states.get("sensor.flexems_planner_constraint_breaches").state == "0"
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE) is None


@pytest.mark.parametrize(
    ("settings", "lowest_kwh", "end_kwh"),
    [({}, 1.0, 5.0), ({CONF_RESERVE_SOC: 30}, 3.0, 5.0), ({CONF_END_SOC: 0}, 1.0, None)],
)
async def test_a_battery_keeps_its_reserve_and_ends_as_full_as_it_started(
    hass: HomeAssistant,
    addon: Server,
    settings: dict[str, float],
    lowest_kwh: float,
    end_kwh: float | None,
) -> None:
    set_inputs(hass)  # the battery: 10 kWh at 50 %
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(entry, subentry, data={**subentry.data, **settings})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plan = entry.runtime_data.coordinator.data
    soc = plan["devices"]["battery"]["soc_kwh"]
    assert plan["status"] == "optimal"
    assert min(soc) >= lowest_kwh - 1e-6
    assert min(soc) <= lowest_kwh + 1e-6  # the reserve binds: the prices make it worth using
    if end_kwh is None:
        assert soc[-1] < 5.0 - 1e-6  # free to end emptier (the last hours are dear)
    else:
        assert soc[-1] >= end_kwh - 1e-6
