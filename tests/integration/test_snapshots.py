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
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.matchers import path_type

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

# Entities whose state is measured anew each run (how long the solver took): their state is
# snapshotted as "some number", the rest of it exactly.
MEASURED = {"solve_time"}
ANY_STATE = path_type({"state": (str,)})


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
        # Entities disabled by default are snapshotted too, enabled as a user would.
        for hidden in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
            if hidden.disabled_by is not None:
                entity_registry.async_update_entity(hidden.entity_id, disabled_by=None)
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
    entities = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert {entity.domain for entity in entities} == {platform}
    for entity in entities:
        assert entity == snapshot(name=f"{entity.entity_id}-entry")
        state = hass.states.get(entity.entity_id)
        assert state is not None, entity.entity_id
        if entity.translation_key in MEASURED:
            assert float(state.state) > 0
            assert state == snapshot(name=f"{entity.entity_id}-state", matcher=ANY_STATE)
        else:
            assert state == snapshot(name=f"{entity.entity_id}-state")
