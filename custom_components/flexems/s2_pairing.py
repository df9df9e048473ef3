"""Pairing an S2 device from the integration's page: "Add S2 device" asks for the device's name
and shows the address and the one-time pairing token (15 minutes) for its installer. Nothing is
kept in Home Assistant: the device appears once its Resource Manager connects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigEntryState, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.util import dt as dt_util

from .client import FlexEmsError
from .coordinator import SITE, FlexEmsConfigEntry

LABEL = "label"
SUBENTRY_S2 = "s2_device"  # pairs a device; keeps nothing


class S2PairingFlow(ConfigSubentryFlow):
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        entry: FlexEmsConfigEntry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            client = entry.runtime_data.coordinator.client
            try:
                paired = await client.pair_s2_device(user_input[LABEL].strip(), SITE)
            except FlexEmsError:
                errors["base"] = "cannot_connect"
            else:
                until = dt_util.as_local(datetime.fromisoformat(paired["expires_at"]))
                return self.async_abort(
                    reason="paired",
                    description_placeholders={
                        "label": paired["label"], "url": paired["url"],
                        "token": paired["token"], "expires_at": until.strftime("%H:%M"),
                    },
                )  # fmt: skip
        schema = vol.Schema({vol.Required(LABEL): vol.All(str, vol.Length(min=1, max=100))})
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)
