"""Config flow against a real add-on: by hand, discovery, reauth, reconfigure, options, assets."""

from __future__ import annotations

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.flexems.const import (
    CONF_CAPACITY_KWH,
    CONF_EFFICIENCY,
    CONF_GRID_LIMIT_KW,
    CONF_HORIZON_HOURS,
    CONF_LOAD_WEEKS,
    CONF_NORDPOOL_ENTRY,
    CONF_POWER_KW,
    CONF_PRICE_ATTRIBUTE,
    CONF_PRICE_ENTITY,
    CONF_PRICE_MARKUP,
    CONF_PRICE_SOURCE,
    CONF_PRODUCTION_FIXED,
    CONF_PRODUCTION_SOURCE,
    CONF_RELAX,
    CONF_RESOLUTION_MINUTES,
    CONF_SOC_ENTITY,
    CONF_STALE_ISSUE_MINUTES,
    CONF_TOKEN,
    CONF_URL,
    DOMAIN,
    SUBENTRY_BATTERY,
)

from ..api.server import TOKEN, Server, free_port
from .conftest import PRICE_ENTITY, SOC_ENTITY, entry_for, set_inputs


async def test_by_hand_checks_the_connection_first(hass: HomeAssistant, addon: Server) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: nowhere, CONF_TOKEN: TOKEN}
    )
    assert result["errors"] == {CONF_URL: "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: addon.base, CONF_TOKEN: "wrong"}
    )
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}
    # Something answers there, but not as the add-on does (a path below it): "unknown".
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: addon.base + "/not-the-api", CONF_TOKEN: TOKEN}
    )
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: addon.base + "/", CONF_TOKEN: TOKEN}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_URL: addon.base, CONF_TOKEN: TOKEN}
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], {CONF_URL: addon.base, CONF_TOKEN: TOKEN}
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    # The same add-on under another address (the entry says local-flexems, the user types
    # its IP address) is still the same add-on: its instance id says so.
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_URL: f"http://local-flexems:{addon.port}"}
    )
    again = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], {CONF_URL: addon.base + "/", CONF_TOKEN: TOKEN}
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    # Discovered later: the same entry, not a second one.
    found = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_HASSIO}, data=discovery(addon)
    )
    assert (found["type"], found["reason"]) == (FlowResultType.ABORT, "already_configured")
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


def discovery(addon: Server, host: str = "127.0.0.1") -> HassioServiceInfo:
    return HassioServiceInfo(
        config={"host": host, "port": addon.port, "token": TOKEN},
        name="flexems optimizer",
        slug="flexems",
        uuid="0123456789abcdef",
    )


async def test_supervisor_discovery_asks_then_creates(hass: HomeAssistant, addon: Server) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_HASSIO}, data=discovery(addon)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "flexems optimizer"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {CONF_URL: addon.base, CONF_TOKEN: TOKEN}
    instance = addon.request("GET", "/api/v1/version").body["instance_id"]
    assert result["result"].unique_id == instance  # the add-on's own id, as by hand


async def test_rediscovery_updates_the_address(hass: HomeAssistant, addon: Server) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=addon.request("GET", "/api/v1/version").body["instance_id"],
        data={CONF_URL: "http://old-host:8099", CONF_TOKEN: TOKEN},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_HASSIO}, data=discovery(addon)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data[CONF_URL] == addon.base


async def test_an_entry_from_before_instance_ids_adopts_the_add_ons(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = entry_for(addon)  # made by hand before: no unique id
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.unique_id == addon.request("GET", "/api/v1/version").body["instance_id"]


async def test_reauth_takes_a_new_token(
    hass: HomeAssistant, addon: Server, reloads: list[str]
) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_TOKEN: "old"})
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {CONF_TOKEN: "x"})
    assert result["errors"] == {CONF_TOKEN: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_TOKEN: TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()  # the entry reloads with the new token
    assert reloads == [entry.entry_id]  # once: by the flow, not again by the update listener
    assert entry.data[CONF_TOKEN] == TOKEN
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_reconfigure_changes_the_connection(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    entry = MockConfigEntry(domain=DOMAIN, data={CONF_URL: "http://elsewhere:1", CONF_TOKEN: ""})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_URL: addon.base, CONF_TOKEN: TOKEN}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()  # the entry reloads with the new connection
    assert entry.data == {CONF_URL: addon.base, CONF_TOKEN: TOKEN}
    assert entry.state is config_entries.ConfigEntryState.LOADED


async def test_options_and_a_battery_subentry(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_STALE_ISSUE_MINUTES: 30, CONF_HORIZON_HOURS: 12, CONF_RESOLUTION_MINUTES: "60",
         CONF_RELAX: True, CONF_PRICE_SOURCE: "sensor", CONF_PRODUCTION_SOURCE: "fixed"},
    )  # fmt: skip
    assert result["step_id"] == "prices"
    fields = {str(key) for key in result["data_schema"].schema}
    assert {CONF_PRICE_ENTITY, CONF_PRICE_MARKUP, CONF_PRODUCTION_FIXED} <= fields
    assert CONF_NORDPOOL_ENTRY not in fields
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ATTRIBUTE: "prices", CONF_PRODUCTION_FIXED: 0.05}
    )
    assert result["errors"] == {CONF_PRICE_ENTITY: "entity_needed"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_PRICE_ENTITY: PRICE_ENTITY, CONF_PRICE_ATTRIBUTE: "prices",
         CONF_PRODUCTION_FIXED: 0.05},
    )  # fmt: skip
    assert result["step_id"] == "forecasts"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_LOAD_WEEKS: 4}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_HORIZON_HOURS] == 12
    assert entry.options[CONF_PRODUCTION_FIXED] == 0.05
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_BATTERY), context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "garage battery", CONF_SOC_ENTITY: SOC_ENTITY, CONF_CAPACITY_KWH: 5,
         CONF_POWER_KW: 2.5, CONF_EFFICIENCY: 92},
    )  # fmt: skip
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # Reloaded with the new asset: hourly steps for 12 h, and a second battery planned.
    assert hass.states.get("sensor.garage_battery_planned_power") is not None
    plan = await hass.services.async_call(
        DOMAIN, "get_plan", {"config_entry": entry.entry_id}, blocking=True, return_response=True
    )
    assert plan["resolution"] == "PT1H"
    assert set(plan["devices"]) == {"battery", "garage battery"}


async def test_options_choosing_nord_pool_asks_for_it_and_drops_stale_keys(
    hass: HomeAssistant, addon: Server
) -> None:
    set_inputs(hass)
    entry = entry_for(addon, **{CONF_GRID_LIMIT_KW: 11})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_STALE_ISSUE_MINUTES: 15, CONF_HORIZON_HOURS: 24, CONF_RESOLUTION_MINUTES: "15",
         CONF_RELAX: True, CONF_PRICE_SOURCE: "nordpool", CONF_PRODUCTION_SOURCE: "same"},
    )  # fmt: skip
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["errors"] == {CONF_NORDPOOL_ENTRY: "nordpool_needed"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_NORDPOOL_ENTRY: "some entry", CONF_PRICE_MARKUP: 0.12}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_PRICE_ENTITY not in entry.options  # the sensor source is gone
    assert CONF_GRID_LIMIT_KW not in entry.options  # left empty: removed
    assert entry.options[CONF_NORDPOOL_ENTRY] == "some entry"
    await hass.async_block_till_done()
