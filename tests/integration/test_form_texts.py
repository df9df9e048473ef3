"""Every field of every form the user sees has a label and a description (the quality scale's
config-flow rule), found by opening the real forms, and the forms show sensible values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant

from custom_components.flexems.community_flows import COMMUNITY_FLOWS, SUBENTRY_COMMUNITY_INVITE
from custom_components.flexems.const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_COP,
    CONF_DURATION_MINUTES,
    CONF_FORECAST_ENTRIES,
    CONF_HEATS,
    CONF_POWER_KW,
    CONF_PRICE_SOURCE,
    CONF_PRODUCTION_SOURCE,
    CONF_RELAX,
    CONF_RESOLUTION_MINUTES,
    CONF_TANK_ENTITY,
    CONF_TANK_LITRES,
    CONF_TANK_MAX,
    CONF_TANK_MIN,
    SUBENTRY_APPLIANCE,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
    SUBENTRY_PV,
)
from custom_components.flexems.s2_pairing import SUBENTRY_S2

from ..api.server import Server
from .conftest import add_asset, entry_for, set_inputs
from .test_heat_pump import INDOOR, OUTDOOR, PUMP

STRINGS = json.loads(
    (Path(__file__).parents[2] / "custom_components" / "flexems" / "strings.json").read_text()
)


def described(section: dict[str, Any], result: Any) -> set[str]:
    """The form's fields; fails naming any without a label or a description."""
    step = section["step"][result["step_id"]]
    fields = {str(key) for key in result["data_schema"].schema}
    assert fields <= set(step["data"]), (
        f"{result['step_id']}: no label for {fields - set(step['data'])}"
    )
    missing = fields - set(step.get("data_description", {}))
    assert not missing, f"{result['step_id']}: no description for {missing}"
    return fields


async def test_every_field_is_labelled_and_described(hass: HomeAssistant, addon: Server) -> None:
    result = await hass.config_entries.flow.async_init(
        "flexems", context={"source": config_entries.SOURCE_USER}
    )
    described(STRINGS["config"], result)
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    described(STRINGS["config"], await entry.start_reauth_flow(hass))
    described(STRINGS["config"], await entry.start_reconfigure_flow(hass))

    options = hass.config_entries.options
    for consumption, production in (("sensor", "sensor"), ("fixed", "fixed"), ("nordpool", "same")):
        result = await options.async_init(entry.entry_id)
        described(STRINGS["options"], result)
        result = await options.async_configure(
            result["flow_id"],
            {CONF_RESOLUTION_MINUTES: "15", CONF_RELAX: True, "horizon_hours": 24,
             "stale_issue_minutes": 15, CONF_PRICE_SOURCE: consumption,
             CONF_PRODUCTION_SOURCE: production},
        )  # fmt: skip
        described(STRINGS["options"], result)
        options.async_abort(result["flow_id"])
    result = await options.async_init(entry.entry_id)
    result = await options.async_configure(
        result["flow_id"],
        {CONF_RESOLUTION_MINUTES: "15", CONF_RELAX: True, "horizon_hours": 24,
         "stale_issue_minutes": 15, CONF_PRICE_SOURCE: "fixed", CONF_PRODUCTION_SOURCE: "same"},
    )  # fmt: skip
    result = await options.async_configure(result["flow_id"], {"fixed_price": 0.3})
    assert result["step_id"] == "forecasts"
    described(STRINGS["options"], result)
    options.async_abort(result["flow_id"])

    subentries = hass.config_entries.subentries
    for kind, section in STRINGS["config_subentries"].items():
        result = await subentries.async_init(
            (entry.entry_id, kind), context={"source": config_entries.SOURCE_USER}
        )
        if kind == SUBENTRY_HEAT_PUMP:
            for heats in ("building", "buffer"):
                again = await subentries.async_init(
                    (entry.entry_id, kind), context={"source": config_entries.SOURCE_USER}
                )
                form = await subentries.async_configure(again["flow_id"], {"next_step_id": heats})
                described(section, form)
                subentries.async_abort(form["flow_id"])
            continue
        if kind == SUBENTRY_COMMUNITY_INVITE:  # a form only when several are hosted
            assert result["reason"] == "no_hosted_community"
            continue
        fields = described(section, result)
        # Assets have a name; pairing an S2 device asks for the device's (its label).
        assert ("label" if kind == SUBENTRY_S2 else "name") in fields
        subentries.async_abort(result["flow_id"])


async def test_every_change_form_is_labelled_and_described(
    hass: HomeAssistant, addon: Server
) -> None:
    """The reconfigure form of each asset kind (a heat pump's for a building and a buffer)."""
    set_inputs(hass)
    hass.states.async_set(INDOOR, "20", {"unit_of_measurement": "°C"})
    hass.states.async_set(OUTDOOR, "5", {"unit_of_measurement": "°C"})
    hass.states.async_set("sensor.tank", "50", {"unit_of_measurement": "°C"})
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assets = {
        SUBENTRY_EV: {CONF_CAPACITY_KWH: 60, CONF_POWER_KW: 11, CONF_ASSUMED_SOC: 50},
        SUBENTRY_HEAT_PUMP: {**PUMP, CONF_HEATS: "building"},
        SUBENTRY_APPLIANCE: {CONF_POWER_KW: 2, CONF_DURATION_MINUTES: 60},
        SUBENTRY_PV: {CONF_FORECAST_ENTRIES: []},
    }
    for kind, data in assets.items():
        add_asset(hass, entry, kind, kind, data)
    tank = {CONF_POWER_KW: 2, CONF_COP: 2.5, CONF_HEATS: "buffer", CONF_TANK_ENTITY: "sensor.tank",
            CONF_TANK_LITRES: 200, CONF_TANK_MIN: 45, CONF_TANK_MAX: 60}  # fmt: skip
    add_asset(hass, entry, SUBENTRY_HEAT_PUMP, "hot water", tank)
    seen = set()
    for subentry in entry.subentries.values():
        result = await entry.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
        assert result["step_id"] == "reconfigure"
        section = STRINGS["config_subentries"][subentry.subentry_type]
        described(section, result)
        hass.config_entries.subentries.async_abort(result["flow_id"])
        seen.add(subentry.subentry_type)
    # Pairing keeps nothing; a community is left and joined again, not changed.
    assert seen == set(STRINGS["config_subentries"]) - {SUBENTRY_S2, *COMMUNITY_FLOWS}


async def test_the_step_selector_shows_its_value_and_asks_for_no_sign_of_a_heat_pump(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = entry_for(addon, **{CONF_RESOLUTION_MINUTES: 30})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    step = next(k for k in result["data_schema"].schema if str(k) == CONF_RESOLUTION_MINUTES)
    assert step.description["suggested_value"] in (30, "30")
    # The selector's options are strings that the frontend can show as chosen.
    selector = result["data_schema"].schema[step]
    assert "30" in [o if isinstance(o, str) else o["value"] for o in selector.config["options"]]
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_HEAT_PUMP), context={"source": config_entries.SOURCE_USER}
    )
    form = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "building"}
    )
    fields = {str(key) for key in form["data_schema"].schema}
    assert not fields & {"setpoint_sign", "discharge_option"}
