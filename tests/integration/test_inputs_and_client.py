"""From entities to a site problem, and the add-on client's job polling and errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from custom_components.flexems import client as client_module
from custom_components.flexems.client import (
    FlexEmsClient,
    FlexEmsConnectionError,
    FlexEmsProblemError,
)
from custom_components.flexems.const import CONF_FIXED_PRICE, CONF_GRID_LIMIT_KW, DOMAIN
from custom_components.flexems.errors import MissingInputError
from custom_components.flexems.prices import price_events
from custom_components.flexems.problem import async_build_site_problem, battery_model

from ..api.server import TOKEN, Server
from ..api.test_service import slow_problem
from .conftest import SOC_ENTITY, entry_for, set_inputs

NOW = datetime(2026, 6, 1, 10, 7, tzinfo=UTC)


async def test_prices_per_mwh_with_start_keys_only(hass: HomeAssistant) -> None:
    items = [{"startsAt": "2026-06-01T10:00:00+00:00", "total": 250},
             {"startsAt": "2026-06-01T11:00:00+00:00", "total": 100}]  # fmt: skip
    hass.states.async_set(
        "sensor.tibber", "250", {"unit_of_measurement": "EUR/MWh", "today": items}
    )
    events = price_events(hass, "sensor.tibber", "today")
    assert [e["value"] for e in events] == [0.25, 0.1]
    assert events[0]["end"] == "2026-06-01T11:00:00+00:00"  # the next start
    assert events[1]["end"] == "2026-06-01T12:00:00+00:00"  # an hour when nothing follows


@pytest.mark.parametrize(
    ("attributes", "reason"),
    [
        ({}, "has no price list in its attribute prices"),
        ({"prices": [{"value": 1}]}, "has no start time in price 0"),
        ({"prices": [{"start": "2026-06-01T10:00:00+00:00"}]}, "has no value in price 0"),
    ],
)
async def test_unusable_price_sensors_say_why(
    hass: HomeAssistant, attributes: dict, reason: str
) -> None:
    hass.states.async_set("sensor.price", "1", attributes)
    with pytest.raises(MissingInputError) as raised:
        price_events(hass, "sensor.price", "prices")
    assert raised.value.reason == reason


async def test_a_battery_soc_that_is_not_a_number(hass: HomeAssistant) -> None:
    hass.states.async_set(SOC_ENTITY, "charging")
    with pytest.raises(MissingInputError, match="not a number"):
        battery_model(
            hass, "battery", {"soc_entity": SOC_ENTITY, "capacity_kwh": 10, "power_kw": 5}, NOW
        )
    hass.states.async_remove(SOC_ENTITY)
    with pytest.raises(MissingInputError, match="unavailable"):
        battery_model(
            hass, "battery", {"soc_entity": SOC_ENTITY, "capacity_kwh": 10, "power_kw": 5}, NOW
        )


async def test_fixed_price_and_grid_limit(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options={CONF_FIXED_PRICE: 0.25, CONF_GRID_LIMIT_KW: 11}
    )
    problem = (await async_build_site_problem(hass, entry, NOW)).body
    assert problem["start"] == "2026-06-01T10:00:00+00:00"
    assert problem["end"] == "2026-06-02T10:00:00+00:00"
    assert problem["flex-context"]["consumption-price"] == 0.25
    assert problem["flex-context"]["site-power-capacity"] == "11 kW"
    assert problem["flex-model"][0]["soc-at-start"] == "5.0000 kWh"


async def test_prices_that_end_before_now_are_missing_input(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    with pytest.raises(MissingInputError, match="has no prices beyond the current step"):
        await async_build_site_problem(hass, entry, datetime(2030, 1, 1, tzinfo=UTC))


async def test_the_client_polls_a_queued_job_and_reports_a_failed_one(
    hass: HomeAssistant, addon: Server
) -> None:
    client = FlexEmsClient(async_get_clientsession(hass), addon.base, TOKEN)
    plan = await client.schedule(slow_problem(), wait_s=0)
    assert plan["status"] == "optimal" and len(plan["timestamps"]) == 8760
    bad = slow_problem()
    bad["flex-model"][0]["soc-max"] = "lots"
    with pytest.raises(FlexEmsProblemError) as raised:
        await client.schedule(bad)
    assert (raised.value.code, raised.value.path) == ("invalid_quantity", "flex-model[0].soc-max")


async def test_the_client_gives_up_on_a_plan_that_never_ends(
    hass: HomeAssistant, addon: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "PLAN_TIMEOUT_S", 0.2)  # a year's plan takes longer
    client = FlexEmsClient(async_get_clientsession(hass), addon.base, TOKEN)
    with pytest.raises(FlexEmsConnectionError, match=r"did not finish the plan within 0\.2 s"):
        await client.schedule(slow_problem(), wait_s=0)


async def test_actions_need_a_loaded_entry(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "get_plan", {"config_entry": entry.entry_id}, blocking=True,
            return_response=True,
        )  # fmt: skip
