"""Communities from the integration's page, against the real add-on: host one, make an
invite, join it (the home joins the community its own add-on hosts), see the community's
entities, leave by removing the entry."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er

from custom_components.flexems.community import CommunityCoordinator
from custom_components.flexems.coordinator import FlexEmsConfigEntry

from ..api.server import Server
from .conftest import settle
from .test_actions import loaded

OUR_STREET = {"name": "Our street", "consumption_kw": 40, "policy": "marginal-value",
              "horizon_hours": "6"}  # fmt: skip


async def subentry_flow(
    hass: HomeAssistant, entry_id: str, kind: str, user_input: dict[str, Any] | None
) -> Any:
    flows = hass.config_entries.subentries
    result = await flows.async_init((entry_id, kind), context={"source": "user"})
    if user_input is None or result["type"] is not FlowResultType.FORM:
        return result
    return await flows.async_configure(result["flow_id"], user_input)


async def created(
    hass: HomeAssistant, entry_id: str, kind: str, user_input: dict[str, Any]
) -> FlexEmsConfigEntry:
    """Run a subentry's flow to its entry; the config entry as it is after the reload."""
    result = await subentry_flow(hass, entry_id, kind, user_input)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await settle(hass)
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    return entry


def membership(addon: Server, wanted: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reply = addon.request("GET", "/api/v1/sites/home/community")
        if reply.status == 200 and reply.body["status"] == wanted and reply.body["report"]:
            return dict(reply.body)
        time.sleep(0.3)
    raise AssertionError(f"the membership never became {wanted}: {reply.body}")


def without_polls(entry: FlexEmsConfigEntry) -> CommunityCoordinator:
    """The entry's community coordinator, polling no more (what it shows then was pushed)."""
    communities = entry.runtime_data.communities
    assert communities is not None and communities.data is not None
    communities.update_interval = None  # the poll already scheduled is dropped by the next line
    communities.async_set_updated_data(communities.data)
    return communities


def entity(hass: HomeAssistant, key: str, subentry_id: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", "flexems", f"{subentry_id}_{key}")
    assert entity_id is not None, key
    return entity_id


async def test_host_invite_join_and_leave_from_the_integration_page(
    hass: HomeAssistant, addon: Server
) -> None:
    entry_id = await loaded(hass, addon)
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    # No community hosted yet: no invite to make.
    result = await subentry_flow(hass, entry_id, "community_invite", None)
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "no_hosted_community"
    entry = await created(hass, entry_id, "community_host", OUR_STREET)
    hosted = next(s for s in entry.subentries.values() if s.subentry_type == "community_host")
    community = hosted.data["community"]
    members = hass.states.get(entity(hass, "community_members", hosted.subentry_id))
    assert members is not None and members.state == "0"

    invite = await subentry_flow(hass, entry_id, "community_invite", None)
    assert invite["type"] is FlowResultType.ABORT and invite["reason"] == "invited"
    shown = invite["description_placeholders"]
    assert shown["community"] == community and shown["name"] == "Our street"

    # A wrong code: the form says so and stays open.
    wrong = await subentry_flow(hass, entry_id, "community", {
        "host": addon.base, "community": community, "invite": "nope", "name": "Our home",
    })  # fmt: skip
    assert wrong["type"] is FlowResultType.FORM and wrong["errors"] == {"base": "invalid_invite"}
    joined = await subentry_flow(hass, entry_id, "community", {
        "host": addon.base, "community": community, "invite": shown["invite"],
        "name": "Our home",
    })  # fmt: skip
    assert joined["type"] is FlowResultType.CREATE_ENTRY, joined
    await settle(hass)
    status = await hass.async_add_executor_job(membership, addon, "converged")
    assert status["community"] == community
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    communities = entry.runtime_data.communities
    assert communities is not None
    await communities.async_refresh()
    await settle(hass)
    member = next(s for s in entry.subentries.values() if s.subentry_type == "community")
    peak = hass.states.get(entity(hass, "community_peak", member.subentry_id))
    assert peak is not None and float(peak.state) <= 40 + 1e-3
    assert peak.attributes["schedule"]  # the card draws the aggregate...
    capacity = hass.states.get(entity(hass, "community_capacity", member.subentry_id))
    assert capacity is not None and float(capacity.state) == 40.0  # ...against the capacity
    assert capacity.attributes["schedule"][0]["value"] == 40.0
    assert hass.states.get(entity(hass, "community_round", member.subentry_id)).attributes[
        "converged"
    ]
    signal = hass.states.get(entity(hass, "community_signal", member.subentry_id))
    assert signal is not None and signal.state != "unavailable"
    contribution = hass.states.get(entity(hass, "community_contribution", member.subentry_id))
    assert contribution is not None and contribution.state != "unavailable"
    members = hass.states.get(entity(hass, "community_members", hosted.subentry_id))
    assert members is not None and members.state == "1"
    assert members.attributes["members"][0]["name"] == "Our home"

    # Joining twice is refused; removing the entry leaves the community.
    again = await subentry_flow(hass, entry_id, "community", None)
    assert again["type"] is FlowResultType.ABORT and again["reason"] == "already_member"
    hass.config_entries.async_remove_subentry(entry, member.subentry_id)
    await settle(hass)
    left = await hass.async_add_executor_job(
        lambda: addon.request("GET", "/api/v1/sites/home/community")
    )
    assert left.status == 404
    overview = await hass.async_add_executor_job(
        lambda: addon.request("GET", f"/api/v1/communities/{community}")
    )
    assert overview.body["members"] == []
    # Removing the hosted community's entry stops hosting it.
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    hass.config_entries.async_remove_subentry(entry, hosted.subentry_id)
    await settle(hass)
    gone = await hass.async_add_executor_job(
        lambda: addon.request("GET", f"/api/v1/communities/{community}")
    )
    assert gone.status == 404


async def test_joining_an_unreachable_host_says_so(hass: HomeAssistant, addon: Server) -> None:
    entry_id = await loaded(hass, addon)
    result = await subentry_flow(hass, entry_id, "community", {
        "host": "http://127.0.0.1:9", "community": "c0123456789ab", "invite": "x",
        "name": "Our home",
    })  # fmt: skip
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "host_unreachable"}


async def test_two_hosted_communities_an_invite_for_each_and_an_add_on_away(
    hass: HomeAssistant, addon: Server
) -> None:
    entry_id = await loaded(hass, addon)
    for name in ("North street", "South street"):
        result = await subentry_flow(hass, entry_id, "community_host", {
            "name": name, "consumption_kw": 30, "production_kw": 20,
            "policy": "capacity-fallback", "horizon_hours": "12",
        })  # fmt: skip
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await settle(hass)
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    south = next(s for s in entry.subentries.values() if s.title == "South street")
    flows = hass.config_entries.subentries
    form = await flows.async_init((entry_id, "community_invite"), context={"source": "user"})
    assert form["type"] is FlowResultType.FORM  # which one?
    invite = await flows.async_configure(form["flow_id"], {"community": south.data["community"]})
    assert invite["reason"] == "invited"
    assert invite["description_placeholders"]["name"] == "South street"
    capacity = hass.states.get(entity(hass, "community_capacity", south.subentry_id))
    assert capacity is not None and capacity.attributes["production_kw"] == 20.0
    # The add-on away: the communities' entities are unavailable, forms say so.
    entry.runtime_data.communities.client.url = "http://127.0.0.1:9"
    await entry.runtime_data.communities.async_refresh()
    await settle(hass)
    assert hass.states.get(entity(hass, "community_members", south.subentry_id)).state == (
        "unavailable"
    )
    result = await subentry_flow(hass, entry_id, "community_host", {
        "name": "West", "consumption_kw": 30, "policy": "capacity", "horizon_hours": "6",
    })  # fmt: skip
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "cannot_connect"}
    again = await flows.async_init((entry_id, "community_invite"), context={"source": "user"})
    again = await flows.async_configure(again["flow_id"], {"community": south.data["community"]})
    assert again["reason"] == "cannot_connect"


async def test_the_homes_membership_reaches_its_sensors_without_a_poll(
    hass: HomeAssistant, addon: Server
) -> None:
    """The add-on pushes the membership on the site's events channel as it changes: with
    polling off, the sensors still follow it (and a membership ended in the add-on makes them
    unavailable at once, where a poll would only fail)."""
    entry_id = await loaded(hass, addon)
    await created(hass, entry_id, "community_host", OUR_STREET)
    invite = await subentry_flow(hass, entry_id, "community_invite", None)
    shown = invite["description_placeholders"]
    entry = await created(hass, entry_id, "community", {
        "host": addon.base, "community": shown["community"], "invite": shown["invite"],
        "name": "Our home",
    })  # fmt: skip
    communities = without_polls(entry)
    member = next(s for s in entry.subentries.values() if s.subentry_type == "community")
    rounds = entity(hass, "community_round", member.subentry_id)

    async def sensor_says(wanted: Any, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = hass.states.get(rounds)
            if state is not None and wanted(state):
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{rounds} stayed {hass.states.get(rounds)}")

    await sensor_says(lambda state: state.attributes.get("converged") is True)
    # The add-on leaves the community on its own (its API): the sensors hear it at once.
    left = await hass.async_add_executor_job(
        lambda: addon.request("DELETE", "/api/v1/sites/home/community")
    )
    assert left.status == 204
    await sensor_says(lambda state: state.state == "unavailable", timeout_s=10)
    assert communities.data.membership is None


async def test_a_hosted_communitys_view_reaches_its_sensors_without_a_poll(
    hass: HomeAssistant, addon: Server
) -> None:
    """The add-on pushes a hosted community's view on its events channel as it changes: with
    polling off, a neighbour joining shows at once, and so does the add-on ending it."""
    entry_id = await loaded(hass, addon)
    entry = await created(hass, entry_id, "community_host", OUR_STREET)
    communities = without_polls(entry)
    hosted = next(s for s in entry.subentries.values() if s.subentry_type == "community_host")
    members = entity(hass, "community_members", hosted.subentry_id)
    assert hass.states.get(members).state == "0"
    community = hosted.data["community"]

    async def sensor_says(wanted: str, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while (state := hass.states.get(members)).state != wanted:
            assert time.monotonic() < deadline, f"{members} stayed {state}"
            await asyncio.sleep(0.2)

    # A neighbour joins with an invite, through the add-on's API (not this home).
    def neighbour_joins() -> None:
        made = addon.request("POST", f"/api/v1/communities/{community}/invites", {})
        body = {"invite": made.body["invite"], "name": "Number 12"}
        joined = addon.request("POST", f"/api/v1/communities/{community}/members", body, token="")
        assert joined.status == 201, joined.body

    await hass.async_add_executor_job(neighbour_joins)
    await sensor_says("1")
    assert hass.states.get(members).attributes["members"][0]["name"] == "Number 12"
    # The add-on stops hosting it on its own (its API): the sensors hear it at once.
    stopped = await hass.async_add_executor_job(
        lambda: addon.request("DELETE", f"/api/v1/communities/{community}")
    )
    assert stopped.status == 204
    await sensor_says("unavailable")
    assert communities.data.hosted[community] is None
