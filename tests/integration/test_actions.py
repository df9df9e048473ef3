"""Ad-hoc planning actions (as FlexMeasures' trigger API) and the re-plan button."""

from __future__ import annotations

from typing import Any

import probatio as vol
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.flexems.const import DOMAIN
from custom_components.flexems.coordinator import EVENT_PLAN_UPDATED

from ..api.server import Server
from ..optimizer.problems import battery, problem
from .conftest import PRICE_ENTITY, entry_for, set_inputs


async def loaded(hass: HomeAssistant, addon: Server) -> str:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry.entry_id


async def call(hass: HomeAssistant, action: str, **data: Any) -> Any:
    return await hass.services.async_call(DOMAIN, action, data, blocking=True, return_response=True)


async def test_schedule_plans_an_inline_problem_or_the_entry(
    hass: HomeAssistant, addon: Server
) -> None:
    entry_id = await loaded(hass, addon)
    inline = problem(4, prices=[0.3, 0.1, 0.4, 0.2],
                     devices=[battery(soc_at_start=0, soc_max=4, power_capacity=2)])  # fmt: skip
    plan = await call(hass, "schedule", config_entry=entry_id, problem=inline)
    assert plan["devices"]["battery"]["power_kw"] == pytest.approx([0, 2, -2, 0])
    own = await call(hass, "schedule", config_entry=entry_id)
    assert set(own["devices"]) == {"battery"} and own["resolution"] == "PT15M"


async def test_schedule_storage_heating_and_process_use_the_entry_prices(
    hass: HomeAssistant, addon: Server
) -> None:
    entry_id = await loaded(hass, addon)
    ev = {"name": "ev", "soc-at-start": 10, "soc-max": 60, "power-capacity": 11,
          "production-capacity": 0}  # fmt: skip
    plan = await call(hass, "schedule_storage", config_entry=entry_id, flex_model=ev)
    assert plan["devices"]["ev"]["type"] == "storage"
    heating = [
        {"name": "tank", "type": "heat-storage", "soc-at-start": 3, "soc-min": 1, "soc-max": 6,
         "soc-usage": "0.5 kW"},
        {"name": "heater", "type": "heat-pump", "heats": "tank", "power-capacity": 2, "cop": 1},
    ]  # fmt: skip
    plan = await call(hass, "schedule_heating", config_entry=entry_id, flex_model=heating)
    assert min(plan["devices"]["tank"]["soc_kwh"]) >= 1 - 1e-6
    washer = {"name": "washer", "policy": "SHIFTABLE", "power": 2, "duration": "PT1H"}
    plan = await call(hass, "schedule_process", config_entry=entry_id, flex_model=washer)
    # The price sensor's cheapest hours are the 2nd and 3rd of each six: it starts in one.
    assert plan["devices"]["washer"]["start"]
    with pytest.raises(ServiceValidationError, match="plans storage, not process"):
        await call(
            hass, "schedule_storage", config_entry=entry_id, flex_model=washer | {"type": "process"}
        )


async def test_refused_problems_and_a_missing_price_are_validation_errors(
    hass: HomeAssistant, addon: Server
) -> None:
    entry_id = await loaded(hass, addon)
    bad = problem(
        4, prices=0.2, devices=[battery(soc_at_start=0, soc_max="much", power_capacity=2)]
    )
    with pytest.raises(ServiceValidationError, match=r"flex-model\[0\].soc-max"):
        await call(hass, "schedule", config_entry=entry_id, problem=bad)
    hass.states.async_remove(PRICE_ENTITY)
    with pytest.raises(ServiceValidationError, match=r"sensor\.day_ahead_price"):
        await call(hass, "schedule", config_entry=entry_id)


async def test_an_unreachable_addon_is_a_home_assistant_error(
    hass: HomeAssistant, addon: Server
) -> None:
    entry_id = await loaded(hass, addon)
    coordinator = hass.config_entries.async_get_entry(entry_id).runtime_data.coordinator
    coordinator.client.url = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(HomeAssistantError, match="Cannot reach the flexems add-on"):
        await call(hass, "schedule", config_entry=entry_id)


async def test_the_replan_button_asks_for_a_new_plan(hass: HomeAssistant, addon: Server) -> None:
    await loaded(hass, addon)
    events = async_capture_events(hass, EVENT_PLAN_UPDATED)
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.flexems_planner_re_plan_now"}, blocking=True
    )
    await hass.async_block_till_done()
    assert len(events) == 1


async def test_pairing_an_s2_device_gives_a_token_the_device_can_use(
    hass: HomeAssistant, addon: Server
) -> None:
    entry_id = await loaded(hass, addon)
    pairing = await call(hass, "pair_s2_device", config_entry=entry_id, label="Heat pump")
    assert pairing["url"] == f"ws://127.0.0.1:{addon.port}/api/v1/s2"
    assert pairing["site"] == "home" and pairing["label"] == "Heat pump"
    assert pairing["expires_at"]
    # The device exchanges it, once, for its own token.
    exchanged = await hass.async_add_executor_job(
        lambda: addon.request("POST", "/api/v1/s2/tokens", token=pairing["token"])
    )
    assert exchanged.status == 201 and exchanged.body["site"] == "home"
    with pytest.raises(vol.Invalid):
        await call(hass, "pair_s2_device", config_entry=entry_id, label="")
    coordinator = hass.config_entries.async_get_entry(entry_id).runtime_data.coordinator
    coordinator.client.url = "http://127.0.0.1:9"  # nothing listens there
    with pytest.raises(HomeAssistantError, match="Cannot reach the flexems add-on"):
        await call(hass, "pair_s2_device", config_entry=entry_id, label="Heat pump")


async def test_pairing_from_the_integration_page_shows_the_token_and_keeps_nothing(
    hass: HomeAssistant, addon: Server
) -> None:
    entry_id = await loaded(hass, addon)
    entry = hass.config_entries.async_get_entry(entry_id)
    flows = hass.config_entries.subentries
    result = await flows.async_init((entry_id, "s2_device"), context={"source": "user"})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "user"
    result = await flows.async_configure(result["flow_id"], {"label": "Heat pump"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "paired"
    shown = result["description_placeholders"]
    assert shown["url"] == f"ws://127.0.0.1:{addon.port}/api/v1/s2"
    assert shown["label"] == "Heat pump" and len(shown["expires_at"]) == 5  # HH:MM
    exchanged = await hass.async_add_executor_job(
        lambda: addon.request("POST", "/api/v1/s2/tokens", token=shown["token"])
    )
    assert exchanged.status == 201  # the token shown works, once
    assert [s.subentry_type for s in entry.subentries.values()] == ["battery"]  # nothing kept
    # The add-on gone: the form says so and stays open.
    entry.runtime_data.coordinator.client.url = "http://127.0.0.1:9"
    result = await flows.async_init((entry_id, "s2_device"), context={"source": "user"})
    result = await flows.async_configure(result["flow_id"], {"label": "Heat pump"})
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "cannot_connect"}
