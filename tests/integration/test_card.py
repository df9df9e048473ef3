"""The plan card: served by the integration and loaded by every dashboard."""

from __future__ import annotations

import json
from pathlib import Path

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.flexems import card
from custom_components.flexems.card import CARD_FILE, CARD_URL

from ..api.server import Server
from .conftest import entry_for, set_inputs


async def test_the_card_is_served_and_loaded_by_dashboards(
    hass: HomeAssistant, addon: Server, hass_client: ClientSessionGenerator
) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    urls = hass.data[DATA_EXTRA_MODULE_URL].urls
    (loaded,) = (url for url in urls if url.startswith(CARD_URL))
    version = json.loads((Path(card.__file__).parent / "manifest.json").read_text())["version"]
    assert loaded == f"{CARD_URL}?v={version}"  # the version busts browsers' caches on updates
    client = await hass_client()
    response = await client.get(loaded)
    assert response.status == 200
    assert "javascript" in response.headers["Content-Type"]
    body = await response.text()
    assert body == CARD_FILE.read_text()
    assert "customElements.define(CARD_TYPE, FlexemsPlanCard)" in body
