"""The demo's entry is made by the demo itself (for its PV forecast); none by hand."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult


class DemoConfigFlow(ConfigFlow, domain="flexems_demo"):
    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        return self.async_abort(reason="made_by_the_demo")
