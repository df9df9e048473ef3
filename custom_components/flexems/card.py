"""The plan card: served from the integration's own folder and loaded by every dashboard, so
`type: custom:flexems-plan-card` works without adding a resource by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration

from .const import DOMAIN

CARD_URL: Final = f"/{DOMAIN}/flexems-plan-card.js"
CARD_FILE: Final = Path(__file__).parent / "frontend" / "flexems-plan-card.js"


async def async_register_card(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), cache_headers=True)]
    )
    # Browsers keep the cached file until the version changes the address.
    add_extra_js_url(hass, f"{CARD_URL}?v={integration.version}")
