"""Repair issues about the add-on: too old for this integration, or unreachable for long; and
the planned grid import/export meters for the energy dashboard."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.flexems import coordinator as coordinator_module
from custom_components.flexems.const import CONF_FIXED_PRICE, CONF_STALE_ISSUE_MINUTES, DOMAIN

from ..api.server import Server
from .conftest import entry_for, set_inputs, settle


async def setup(hass: HomeAssistant, addon: Server, **options: int):  # type: ignore[no-untyped-def]
    set_inputs(hass)
    entry = entry_for(addon, **options)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_an_add_on_older_than_needed_is_a_repair_issue(
    hass: HomeAssistant, addon: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    await setup(hass, addon)
    assert ir.async_get(hass).async_get_issue(DOMAIN, "addon_version") is None
    monkeypatch.setattr(coordinator_module, "MIN_ADDON_VERSION", (99, 0, 0))
    await hass.config_entries.async_reload(
        next(iter(hass.config_entries.async_entries(DOMAIN))).entry_id
    )
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "addon_version")
    assert issue is not None
    assert issue.translation_placeholders["needed"] == "99.0.0"
    assert issue.translation_placeholders["api"] == "v1"


async def minutes_pass(hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int) -> None:
    """Minute by minute: while no plan can be made, the coordinator tries every minute."""
    for _ in range(minutes):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await settle(hass)


@pytest.mark.parametrize(("options", "minutes"), [({}, 15), ({CONF_STALE_ISSUE_MINUTES: 30}, 30)])
async def test_an_add_on_away_is_a_repair_issue_after_the_chosen_time_until_it_is_back(
    hass: HomeAssistant,
    data_dir: Path,
    freezer: FrozenDateTimeFactory,
    options: dict[str, int],
    minutes: int,
) -> None:
    addon = Server(data_dir)
    try:
        await setup(hass, addon, **options)
        port = addon.port
        addon.stop()
        await minutes_pass(hass, freezer, 15)  # the next plan (the safety interval) fails
        await minutes_pass(hass, freezer, minutes - 1)
        assert ir.async_get(hass).async_get_issue(DOMAIN, "addon_unreachable") is None
        await minutes_pass(hass, freezer, 1)
        issue = ir.async_get(hass).async_get_issue(DOMAIN, "addon_unreachable")
        assert issue is not None and issue.translation_placeholders["url"] == addon.base
        addon = Server(data_dir, port=port)
        await minutes_pass(hass, freezer, 1)  # back within a minute, not a quarter hour
        assert ir.async_get(hass).async_get_issue(DOMAIN, "addon_unreachable") is None
    finally:
        addon.stop()


async def test_planned_import_and_export_meters_count_each_ended_step(
    hass: HomeAssistant, addon: Server, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to("2026-06-01T10:07:00+00:00")
    entry = await setup(hass, addon)
    meter = hass.states.get("sensor.flexems_planner_planned_grid_import")
    assert meter.attributes["state_class"] == "total_increasing"
    assert meter.attributes["unit_of_measurement"] == "kWh"
    assert float(meter.state) == 0.0
    plan = entry.runtime_data.coordinator.data
    first_import = plan["site"]["import_kw"][0] * 0.25
    first_export = plan["site"]["export_kw"][0] * 0.25
    freezer.move_to("2026-06-01T10:15:00+00:00")
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert float(hass.states.get("sensor.flexems_planner_planned_grid_import").state) == (
        pytest.approx(first_import, abs=1e-4)
    )
    assert float(hass.states.get("sensor.flexems_planner_planned_grid_export").state) == (
        pytest.approx(first_export, abs=1e-4)
    )
    assert first_import + first_export > 0  # the battery trades in the first step
    assert dt_util.utcnow().minute == 15


async def test_prices_not_chosen_are_a_repair_issue_until_chosen(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = MockConfigEntry(domain=DOMAIN, data=entry_for(addon).data, options={})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "prices_not_chosen")
    assert issue is not None and issue.translation_placeholders == {"price": "0.30"}
    hass.config_entries.async_update_entry(entry, options={CONF_FIXED_PRICE: 0.25})
    await settle(hass)  # reloads with the choice
    assert ir.async_get(hass).async_get_issue(DOMAIN, "prices_not_chosen") is None


async def test_an_add_on_that_set_its_store_aside_is_a_repair_issue(
    hass: HomeAssistant, data_dir: Path
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "flexems.sqlite").write_bytes(b"garbage after a power cut" * 100)
    addon = Server(data_dir)
    try:
        entry = await setup(hass, addon)
        issue = ir.async_get(hass).async_get_issue(DOMAIN, "addon_store_recovered")
        assert issue is not None and ".corrupt-" in issue.translation_placeholders["moved_to"]
        port = addon.port
        addon.stop()
        addon = Server(data_dir, port=port)  # a clean start: the notice goes
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert ir.async_get(hass).async_get_issue(DOMAIN, "addon_store_recovered") is None
    finally:
        addon.stop()
