"""Snapshots of every entity's registry entry and state, with a fixed clock and fixed ids: a
change in names, units, device classes, attributes or planned values shows up in review."""

from __future__ import annotations

from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.flexems.const import (
    CONF_CONTROL_ENTITY,
    CONF_DURATION_MINUTES,
    CONF_POWER_KW,
    CONF_TOKEN,
    CONF_URL,
    DOMAIN,
    SUBENTRY_APPLIANCE,
    SUBENTRY_HEAT_PUMP,
)

from ..api.server import TOKEN, Server
from .conftest import entry_for, set_inputs
from .test_heat_pump import INDOOR, OUTDOOR, PUMP


def fixed_entry(addon: Server) -> MockConfigEntry:
    """The conftest entry plus a heat pump and a dishwasher, with ids that do not change."""
    base = entry_for(addon)
    battery = next(iter(base.subentries.values()))
    return MockConfigEntry(
        domain=DOMAIN,
        title="flexems",
        entry_id="01JFLEXEMSSNAPSHOTENTRY000",
        data={CONF_URL: addon.base, CONF_TOKEN: TOKEN},
        options=dict(base.options),
        subentries_data=[
            ConfigSubentryData(subentry_type=battery.subentry_type, title="battery",
                               subentry_id="battery0001", unique_id=None,
                               data={**battery.data, CONF_CONTROL_ENTITY: "input_number.setpoint"}),
            ConfigSubentryData(subentry_type=SUBENTRY_HEAT_PUMP, title="heat pump",
                               subentry_id="heatpump001", unique_id=None, data=PUMP),
            ConfigSubentryData(subentry_type=SUBENTRY_APPLIANCE, title="dishwasher",
                               subentry_id="dishwasher1", unique_id=None,
                               data={CONF_POWER_KW: 2, CONF_DURATION_MINUTES: 60}),
        ],
    )  # fmt: skip


@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.SWITCH])
async def test_entities(
    hass: HomeAssistant,
    addon: Server,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    freezer.move_to("2026-06-01T10:07:00+00:00")
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    set_inputs(hass)
    hass.states.async_set(INDOOR, "20.5", {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "2", {"unit_of_measurement": "°C"})
    entry = fixed_entry(addon)
    entry.add_to_hass(hass)
    with patch("custom_components.flexems.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
