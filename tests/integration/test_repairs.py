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
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.flexems import coordinator as coordinator_module
from custom_components.flexems.const import DOMAIN

from ..api.server import Server
from .conftest import entry_for, set_inputs


async def setup(hass: HomeAssistant, addon: Server):  # type: ignore[no-untyped-def]
    set_inputs(hass)
    entry = entry_for(addon)
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


async def test_an_add_on_away_for_an_hour_is_a_repair_issue_until_it_is_back(
    hass: HomeAssistant, data_dir: Path, freezer: FrozenDateTimeFactory
) -> None:
    addon = Server(data_dir)
    try:
        await setup(hass, addon)
        port = addon.port
        addon.stop()
        for _ in range(4):  # four failed plans, 15 minutes apart
            freezer.tick(timedelta(minutes=15))
            async_fire_time_changed(hass)
            await hass.async_block_till_done(wait_background_tasks=True)
        assert ir.async_get(hass).async_get_issue(DOMAIN, "addon_unreachable") is None
        freezer.tick(timedelta(minutes=15))  # an hour since the first failure
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        issue = ir.async_get(hass).async_get_issue(DOMAIN, "addon_unreachable")
        assert issue is not None and issue.translation_placeholders["url"] == addon.base
        addon = Server(data_dir, port=port)
        freezer.tick(timedelta(minutes=15))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
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
