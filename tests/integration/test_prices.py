"""Price sources: the core Nord Pool integration (against a stand-in for Nord Pool's cloud),
export prices, a markup and a peak price."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexems.const import (
    CONF_FIXED_PRICE,
    CONF_NORDPOOL_AREA,
    CONF_NORDPOOL_ENTRY,
    CONF_PEAK_PRICE,
    CONF_PRICE_ENTITY,
    CONF_PRICE_MARKUP,
    CONF_PRICE_SOURCE,
    CONF_PRODUCTION_ATTRIBUTE,
    CONF_PRODUCTION_ENTITY,
    CONF_PRODUCTION_FIXED,
    CONF_PRODUCTION_SOURCE,
    DOMAIN,
)
from custom_components.flexems.errors import MissingInputError
from custom_components.flexems.problem import async_build_site_problem

from ..api.server import Server
from .conftest import entry_for, set_inputs
from .nord_pool_cloud import NOW, NordPoolCloud, spot


async def test_nord_pool_prices_plan_until_the_published_day_ends(
    hass: HomeAssistant, addon: Server, nord_pool: tuple[NordPoolCloud, MockConfigEntry]
) -> None:
    cloud, nordpool_entry = nord_pool
    set_inputs(hass)
    entry = entry_for(
        addon,
        **{CONF_PRICE_SOURCE: "nordpool", CONF_NORDPOOL_ENTRY: nordpool_entry.entry_id,
           CONF_NORDPOOL_AREA: "se4", CONF_PRICE_MARKUP: 0.1},
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    plan = entry.runtime_data.coordinator.data
    # Tomorrow is not published yet: the plan ends with Stockholm's day (22:00 UTC).
    assert plan["start"].startswith("2026-06-01T10:00:00")
    assert plan["end"].startswith("2026-06-01T22:00:00")
    problem = (await async_build_site_problem(hass, entry, datetime.fromisoformat(NOW))).body
    prices = problem["flex-context"]["consumption-price"]
    first = next(p for p in prices if p["start"] == "2026-06-01T10:00:00+00:00")
    assert first["value"] == pytest.approx(140 / 1000 + 0.1)  # per MWh → per kWh, plus markup
    assert "production-price" not in problem["flex-context"]  # exports earn the same
    assert {r["deliveryArea"] for r in cloud.requests} >= {"SE4"}


async def test_published_tomorrow_gives_the_whole_horizon(
    hass: HomeAssistant, addon: Server, nord_pool: tuple[NordPoolCloud, MockConfigEntry]
) -> None:
    cloud, nordpool_entry = nord_pool
    cloud.published.add(date(2026, 6, 2))
    set_inputs(hass)
    entry = entry_for(
        addon,
        **{CONF_PRICE_SOURCE: "nordpool", CONF_NORDPOOL_ENTRY: nordpool_entry.entry_id,
           CONF_PRODUCTION_SOURCE: "nordpool"},
    )  # fmt: skip
    problem = (await async_build_site_problem(hass, entry, datetime.fromisoformat(NOW))).body
    assert problem["end"] == "2026-06-02T10:00:00+00:00"
    context = problem["flex-context"]
    # No area named: the entry's first; exports earn the bare market price.
    assert context["production-price"][0]["value"] == pytest.approx(
        spot(datetime(2026, 5, 31, 22)) / 1000
    )
    assert context["consumption-price"] == context["production-price"]


async def test_a_nord_pool_entry_that_is_gone_is_a_repair_issue(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = entry_for(addon, **{CONF_PRICE_SOURCE: "nordpool", CONF_NORDPOOL_ENTRY: "gone"})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED  # without a plan: its entities unavailable
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "missing_input_Nord Pool")
    assert issue is not None and issue.translation_key == "missing_input_not_set_up"


async def test_export_prices_and_a_peak_price(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    moment = datetime.fromisoformat(NOW)
    fixed = entry_for(
        addon,
        **{CONF_PRICE_SOURCE: "fixed", CONF_FIXED_PRICE: 0.3, CONF_PRODUCTION_SOURCE: "fixed",
           CONF_PRODUCTION_FIXED: 0.07, CONF_PEAK_PRICE: 2.5, CONF_PRICE_ENTITY: None},
    )  # fmt: skip
    context = (await async_build_site_problem(hass, fixed, moment)).body["flex-context"]
    assert context["consumption-price"] == 0.3
    assert context["production-price"] == 0.07
    assert context["site-peak-consumption-price"] == 2.5
    fixed.add_to_hass(hass)
    assert await hass.config_entries.async_setup(fixed.entry_id)  # the add-on takes it
    await hass.async_block_till_done()
    assert fixed.runtime_data.coordinator.data["status"] == "optimal"
    hass.states.async_set(
        "sensor.feed_in",
        "0.05",
        {"unit_of_measurement": "EUR/kWh",
         "today": [{"start": "2026-06-01T10:00:00+00:00", "end": "2026-06-01T14:00:00+00:00",
                    "value": 0.05}]},
    )  # fmt: skip
    from_sensor = entry_for(
        addon,
        **{CONF_PRODUCTION_SOURCE: "sensor", CONF_PRODUCTION_ENTITY: "sensor.feed_in",
           CONF_PRODUCTION_ATTRIBUTE: "today"},
    )  # fmt: skip
    problem = (await async_build_site_problem(hass, from_sensor, moment)).body
    assert problem["flex-context"]["production-price"][0]["value"] == 0.05
    assert problem["end"] == "2026-06-01T14:00:00+00:00"  # as far as both prices are known
    hass.states.async_remove("sensor.feed_in")
    with pytest.raises(MissingInputError, match=r"sensor\.feed_in is unavailable"):
        await async_build_site_problem(hass, from_sensor, moment)
