"""Diagnostics: the entry (token redacted), a summary of the latest plan and the site problem it
answers, which `flexems-optimizer schedule problem.json` replays."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_TOKEN
from .coordinator import FlexEmsConfigEntry

TO_REDACT = {CONF_TOKEN}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: FlexEmsConfigEntry
) -> dict[str, Any]:
    coordinator = entry.runtime_data.coordinator
    plan = coordinator.data
    return {
        "entry": async_redact_data(dict(entry.data), TO_REDACT),
        "options": dict(entry.options),
        "assets": [
            {"type": sub.subentry_type, "title": sub.title, "data": dict(sub.data)}
            for sub in entry.subentries.values()
        ],
        "plan": {
            "status": plan["status"],
            "start": plan["start"],
            "end": plan["end"],
            "costs": plan["costs"],
            "solver": plan["solver"],
            "breaches": plan["breaches"],
        },
        "problem": coordinator.problem,
        "push_connected": coordinator.push_connected,
    }
