"""Set-up: by hand or from the add-on's Supervisor discovery; options; a subentry per asset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    ConfigEntrySelector,
    ConfigEntrySelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from .asset_flows import ASSET_FLOWS
from .client import FlexEmsAuthError, FlexEmsClient, FlexEmsConnectionError, FlexEmsError
from .community_flows import COMMUNITY_FLOWS
from .const import (
    CONF_FIXED_PRICE,
    CONF_GRID_LIMIT_KW,
    CONF_HORIZON_HOURS,
    CONF_LOAD_ENTITY,
    CONF_LOAD_EXCLUDED,
    CONF_LOAD_WEEKS,
    CONF_NORDPOOL_AREA,
    CONF_NORDPOOL_ENTRY,
    CONF_PEAK_PRICE,
    CONF_PRICE_ATTRIBUTE,
    CONF_PRICE_ENTITY,
    CONF_PRICE_MARKUP,
    CONF_PRICE_SOURCE,
    CONF_PRODUCTION_ATTRIBUTE,
    CONF_PRODUCTION_ENTITY,
    CONF_PRODUCTION_FIXED,
    CONF_PRODUCTION_SOURCE,
    CONF_RELAX,
    CONF_RESOLUTION_MINUTES,
    CONF_STALE_ISSUE_MINUTES,
    CONF_TOKEN,
    CONF_URL,
    DEFAULT_FIXED_PRICE,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_LOAD_WEEKS,
    DEFAULT_PORT,
    DEFAULT_RESOLUTION_MINUTES,
    DEFAULT_STALE_ISSUE_MINUTES,
    DOMAIN,
    LOGGER,
)
from .coordinator import FlexEmsConfigEntry
from .form_fields import PASSWORD, SENSOR, choice, number
from .prices import (
    NORDPOOL_DOMAIN,
    SOURCE_FIXED,
    SOURCE_NORDPOOL,
    SOURCE_SAME,
    SOURCE_SENSOR,
)
from .s2_pairing import SUBENTRY_S2, S2PairingFlow


class FlexEmsConfigFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 1
    _discovered: dict[str, Any]

    _instance_id: str | None = None

    async def _check(self, url: str, token: str) -> dict[str, str]:
        """Errors by field if the add-on at `url` does not accept `token`; else remembers the
        add-on's instance id, which identifies it however its address is spelled."""
        client = FlexEmsClient(async_get_clientsession(self.hass), url, token)
        try:
            addon = await client.version()
        except FlexEmsAuthError:
            return {CONF_TOKEN: "invalid_auth"}
        except FlexEmsConnectionError:
            return {CONF_URL: "cannot_connect"}
        except FlexEmsError:
            LOGGER.exception("Unexpected answer from the add-on at %s", url)
            return {"base": "unknown"}
        self._instance_id = addon.instance_id
        return {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            url = user_input[CONF_URL].rstrip("/")
            self._async_abort_entries_match({CONF_URL: url})
            errors = await self._check(url, user_input.get(CONF_TOKEN, ""))
            if not errors:
                if self._instance_id:
                    await self.async_set_unique_id(self._instance_id)
                    self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title="flexems",
                    data={CONF_URL: url, CONF_TOKEN: user_input.get(CONF_TOKEN, "")},
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_URL): TextSelector(
                            TextSelectorConfig(type=TextSelectorType.URL)
                        ),
                        vol.Optional(CONF_TOKEN): PASSWORD,
                    }
                ),
                user_input or {CONF_URL: f"http://local-flexems:{DEFAULT_PORT}"},
            ),
            errors=errors,
        )

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced itself through the Supervisor."""
        config = discovery_info.config
        url = f"http://{config['host']}:{config['port']}"
        data = {CONF_URL: url, CONF_TOKEN: config.get("token", "")}
        # The add-on's own instance id, as an entry made by hand has it; an add-on that cannot
        # say it (older, or not answering yet) is known by the Supervisor's discovery id.
        await self._check(url, data[CONF_TOKEN])
        await self.async_set_unique_id(self._instance_id or discovery_info.uuid)
        self._abort_if_unique_id_configured(updates=data)
        self._discovered = {**data, "name": discovery_info.name}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._check(self._discovered[CONF_URL], self._discovered[CONF_TOKEN])
            if not errors:
                return self.async_create_entry(
                    title=self._discovered["name"],
                    data={
                        CONF_URL: self._discovered[CONF_URL],
                        CONF_TOKEN: self._discovered[CONF_TOKEN],
                    },
                )
        return self.async_show_form(
            step_id="hassio_confirm",
            description_placeholders={"addon": self._discovered["name"]},
            errors=errors,
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._check(entry.data[CONF_URL], user_input[CONF_TOKEN])
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): PASSWORD}),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            url = user_input[CONF_URL].rstrip("/")
            errors = await self._check(url, user_input.get(CONF_TOKEN, ""))
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_URL: url, CONF_TOKEN: user_input.get(CONF_TOKEN, "")}
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema({vol.Required(CONF_URL): str, vol.Optional(CONF_TOKEN): PASSWORD}),
                {CONF_URL: entry.data[CONF_URL]},
            ),
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: FlexEmsConfigEntry) -> OptionsFlow:
        return FlexEmsOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        return {**ASSET_FLOWS, SUBENTRY_S2: S2PairingFlow, **COMMUNITY_FLOWS}


def _merge(
    options: dict[str, Any], schema: vol.Schema, user_input: dict[str, Any]
) -> dict[str, Any]:
    """The options with this form's fields as given: an optional field left empty is removed."""
    keys = {str(key) for key in schema.schema}
    return {**{k: v for k, v in options.items() if k not in keys}, **user_input}


class FlexEmsOptionsFlow(OptionsFlow):
    """How and when to plan; the site: its prices, grid connection and load forecast."""

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        current = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(CONF_HORIZON_HOURS, default=DEFAULT_HORIZON_HOURS): number(
                    1, 168, 1, "h"
                ),
                vol.Required(
                    CONF_RESOLUTION_MINUTES, default=str(DEFAULT_RESOLUTION_MINUTES)
                ): choice("resolution_minutes", ["5", "15", "30", "60"]),
                vol.Required(CONF_RELAX, default=True): BooleanSelector(),
                vol.Required(CONF_PRICE_SOURCE, default=SOURCE_FIXED): choice(
                    "price_source", [SOURCE_SENSOR, SOURCE_NORDPOOL, SOURCE_FIXED]
                ),
                vol.Required(CONF_PRODUCTION_SOURCE, default=SOURCE_SAME): choice(
                    "production_price_source",
                    [SOURCE_SAME, SOURCE_SENSOR, SOURCE_NORDPOOL, SOURCE_FIXED],
                ),
                vol.Optional(CONF_GRID_LIMIT_KW): number(1, 1000, 0.1, "kW"),
                vol.Optional(CONF_PEAK_PRICE): number(0, 100, 0.01),
                vol.Required(CONF_STALE_ISSUE_MINUTES, default=DEFAULT_STALE_ISSUE_MINUTES): number(
                    5, 1440, 5, "min"
                ),
            }
        )
        if user_input is not None:
            self._options = _merge(dict(current), schema, user_input)
            return await self.async_step_prices()
        suggested = dict(current)
        # The selector's options are strings; entries made before keep an int.
        if CONF_RESOLUTION_MINUTES in suggested:
            suggested[CONF_RESOLUTION_MINUTES] = str(suggested[CONF_RESOLUTION_MINUTES])
        if CONF_PRICE_SOURCE not in suggested and current.get(CONF_PRICE_ENTITY):
            suggested[CONF_PRICE_SOURCE] = SOURCE_SENSOR
        return self.async_show_form(
            step_id="init", data_schema=self.add_suggested_values_to_schema(schema, suggested)
        )

    async def async_step_prices(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The details of the chosen price sources."""
        errors: dict[str, str] = {}
        consumption = self._options[CONF_PRICE_SOURCE]
        production = self._options[CONF_PRODUCTION_SOURCE]
        if user_input is not None:
            for source, key in (
                (consumption, CONF_PRICE_ENTITY),
                (production, CONF_PRODUCTION_ENTITY),
            ):
                if source == SOURCE_SENSOR and not user_input.get(key):
                    errors[key] = "entity_needed"
            if SOURCE_NORDPOOL in (consumption, production) and not user_input.get(
                CONF_NORDPOOL_ENTRY
            ):
                errors[CONF_NORDPOOL_ENTRY] = "nordpool_needed"
        fields: dict[Any, Any] = {}
        if consumption == SOURCE_SENSOR:
            fields[vol.Optional(CONF_PRICE_ENTITY)] = SENSOR
            fields[vol.Required(CONF_PRICE_ATTRIBUTE, default="prices")] = str
        if consumption == SOURCE_FIXED:
            fields[vol.Required(CONF_FIXED_PRICE, default=DEFAULT_FIXED_PRICE)] = number(
                -1, 5, 0.001
            )
        if SOURCE_NORDPOOL in (consumption, production):
            fields[vol.Optional(CONF_NORDPOOL_ENTRY)] = ConfigEntrySelector(
                ConfigEntrySelectorConfig(integration=NORDPOOL_DOMAIN)
            )
            fields[vol.Optional(CONF_NORDPOOL_AREA)] = str
        if consumption != SOURCE_FIXED:
            fields[vol.Optional(CONF_PRICE_MARKUP, default=0.0)] = number(-1, 5, 0.001)
        if production == SOURCE_SENSOR:
            fields[vol.Optional(CONF_PRODUCTION_ENTITY)] = SENSOR
            fields[vol.Required(CONF_PRODUCTION_ATTRIBUTE, default="prices")] = str
        if production == SOURCE_FIXED:
            fields[vol.Required(CONF_PRODUCTION_FIXED, default=0.0)] = number(-1, 5, 0.001)
        if user_input is not None and not errors:
            # Keys of sources no longer chosen go; the form's fields are as given.
            stale = {CONF_PRICE_ENTITY, CONF_PRICE_ATTRIBUTE, CONF_FIXED_PRICE, CONF_NORDPOOL_ENTRY,
                     CONF_NORDPOOL_AREA, CONF_PRICE_MARKUP, CONF_PRODUCTION_ENTITY,
                     CONF_PRODUCTION_ATTRIBUTE, CONF_PRODUCTION_FIXED}  # fmt: skip
            self._options = {k: v for k, v in self._options.items() if k not in stale}
            self._options.update(user_input)
            return await self.async_step_forecasts()
        return self.async_show_form(
            step_id="prices",
            data_schema=self.add_suggested_values_to_schema(vol.Schema(fields), self._options),
            errors=errors,
        )

    async def async_step_forecasts(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The household load forecast, from the recorder's history of a sensor."""
        schema = vol.Schema(
            {
                vol.Optional(CONF_LOAD_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="sensor", device_class=["power", "energy"])
                ),
                vol.Optional(CONF_LOAD_EXCLUDED): EntitySelector(
                    EntitySelectorConfig(domain="sensor", device_class="power", multiple=True)
                ),
                vol.Required(CONF_LOAD_WEEKS, default=DEFAULT_LOAD_WEEKS): number(1, 12, 1),
            }
        )
        if user_input is not None:
            return self.async_create_entry(data=_merge(self._options, schema, user_input))
        return self.async_show_form(
            step_id="forecasts",
            data_schema=self.add_suggested_values_to_schema(schema, self._options),
        )
