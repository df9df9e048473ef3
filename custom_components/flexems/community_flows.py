"""Communities from the integration's page: join one (the host's address, the community and an
invite code), host one on this add-on (its shared capacity and policy), and make invite codes
for a hosted one to share with the neighbours. Removing a community's entry leaves it (or stops
hosting it): see `community.async_forget_removed`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import SelectOptionDict, SelectSelector, SelectSelectorConfig
from homeassistant.util import dt as dt_util

from .client import FlexEmsConnectionError, FlexEmsError, FlexEmsProblemError
from .coordinator import SITE, FlexEmsConfigEntry
from .form_fields import choice, number

SUBENTRY_COMMUNITY = "community"  # this home takes part in a community
SUBENTRY_COMMUNITY_HOST = "community_host"  # this add-on hosts one
SUBENTRY_COMMUNITY_INVITE = "community_invite"  # makes an invite code; keeps nothing
CONF_ROLE = "role"
CONF_HOST = "host"
CONF_COMMUNITY = "community"
CONF_INVITE = "invite"
CONF_NAME = "name"
CONF_MEMBER = "member"
CONF_CONSUMPTION_KW = "consumption_kw"
CONF_PRODUCTION_KW = "production_kw"
CONF_POLICY = "policy"
CONF_HORIZON = "horizon_hours"
# Members plan 24 hours ahead by default, from the step they last planned at: a community
# shorter than that fits every member's plan.
HORIZONS = ["6", "12", "23"]
POLICIES = ["marginal-value", "capacity-fallback", "capacity", "remedies", "flexmeasures"]


def _loaded(flow: ConfigSubentryFlow) -> FlexEmsConfigEntry | None:
    entry: FlexEmsConfigEntry = flow._get_entry()
    return entry if entry.state is ConfigEntryState.LOADED else None


def _of_type(entry: FlexEmsConfigEntry, kind: str) -> dict[str, Any]:
    return {key: sub for key, sub in entry.subentries.items() if sub.subentry_type == kind}


class JoinCommunityFlow(ConfigSubentryFlow):
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        entry = _loaded(self)
        if entry is None:
            return self.async_abort(reason="not_loaded")
        if _of_type(entry, SUBENTRY_COMMUNITY):
            return self.async_abort(reason="already_member")
        errors: dict[str, str] = {}
        if user_input is not None:
            client = entry.runtime_data.coordinator.client
            host = user_input[CONF_HOST].strip().rstrip("/")
            try:
                joined = await client.join_community(
                    SITE, host, user_input[CONF_COMMUNITY].strip(),
                    user_input[CONF_INVITE].strip(), user_input[CONF_NAME].strip(),
                )  # fmt: skip
            except FlexEmsConnectionError:
                errors["base"] = "cannot_connect"
            except FlexEmsProblemError as error:
                errors["base"] = {
                    "join_refused": "invalid_invite", "host_unreachable": "host_unreachable",
                }.get(error.code, "invalid_input")  # fmt: skip
            except FlexEmsError:
                errors["base"] = "cannot_connect"
            else:
                return self.async_create_entry(
                    title=user_input[CONF_NAME].strip(),
                    data={CONF_ROLE: "member", CONF_HOST: host,
                          CONF_COMMUNITY: joined["community"], CONF_MEMBER: joined["member"]},
                )  # fmt: skip
        schema = vol.Schema({
            vol.Required(CONF_HOST): str,
            vol.Required(CONF_COMMUNITY): str,
            vol.Required(CONF_INVITE): str,
            vol.Required(CONF_NAME, default=self.hass.config.location_name): vol.All(
                str, vol.Length(min=1, max=100)
            ),
        })  # fmt: skip
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)


class HostCommunityFlow(ConfigSubentryFlow):
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        entry = _loaded(self)
        if entry is None:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            capacity = {"consumption": f"{user_input[CONF_CONSUMPTION_KW]:g} kW"}
            if user_input.get(CONF_PRODUCTION_KW):
                capacity["production"] = f"{user_input[CONF_PRODUCTION_KW]:g} kW"
            settings = {"name": user_input[CONF_NAME].strip(), "capacity": capacity,
                        "policy": user_input[CONF_POLICY],
                        "horizon": f"PT{user_input[CONF_HORIZON]}H"}  # fmt: skip
            try:
                hosted = await entry.runtime_data.coordinator.client.host_community(settings)
            except FlexEmsProblemError:
                errors["base"] = "invalid_input"
            except FlexEmsError:
                errors["base"] = "cannot_connect"
            else:
                return self.async_create_entry(
                    title=settings["name"],
                    data={CONF_ROLE: "host", CONF_COMMUNITY: hosted["community"]},
                )
        schema = vol.Schema({
            vol.Required(CONF_NAME): vol.All(str, vol.Length(min=1, max=100)),
            vol.Required(CONF_CONSUMPTION_KW): number(1, 100_000, 0.1, "kW"),
            vol.Optional(CONF_PRODUCTION_KW): number(1, 100_000, 0.1, "kW"),
            vol.Required(CONF_POLICY, default=POLICIES[0]): choice("community_policy", POLICIES),
            vol.Required(CONF_HORIZON, default="12"): choice("community_horizon", HORIZONS),
        })  # fmt: skip
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)


class CommunityInviteFlow(ConfigSubentryFlow):
    """Shows a one-time invite code (valid 24 hours) for a community this add-on hosts."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        entry = _loaded(self)
        if entry is None:
            return self.async_abort(reason="not_loaded")
        hosted = {sub.data[CONF_COMMUNITY]: sub.title
                  for sub in _of_type(entry, SUBENTRY_COMMUNITY_HOST).values()}  # fmt: skip
        if not hosted:
            return self.async_abort(reason="no_hosted_community")
        if user_input is None and len(hosted) > 1:
            options = [SelectOptionDict(value=key, label=title) for key, title in hosted.items()]
            schema = vol.Schema(
                {
                    vol.Required(CONF_COMMUNITY): SelectSelector(
                        SelectSelectorConfig(options=options)
                    )
                }
            )
            return self.async_show_form(step_id="user", data_schema=schema)
        community = user_input[CONF_COMMUNITY] if user_input else next(iter(hosted))
        client = entry.runtime_data.coordinator.client
        try:
            invite = await client.community_invite(community)
        except FlexEmsError:
            return self.async_abort(reason="cannot_connect")
        until = dt_util.as_local(datetime.fromisoformat(invite["expires_at"]))
        return self.async_abort(
            reason="invited",
            description_placeholders={
                "name": hosted[community], "community": community, "invite": invite["invite"],
                "host": client.url, "expires_at": until.strftime("%Y-%m-%d %H:%M"),
            },
        )  # fmt: skip


COMMUNITY_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    SUBENTRY_COMMUNITY: JoinCommunityFlow,
    SUBENTRY_COMMUNITY_HOST: HostCommunityFlow,
    SUBENTRY_COMMUNITY_INVITE: CommunityInviteFlow,
}
