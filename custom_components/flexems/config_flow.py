"""Set-up: by hand or from the add-on's Supervisor discovery; options; a subentry per asset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from .client import FlexEmsAuthError, FlexEmsClient, FlexEmsConnectionError, FlexEmsError
from .const import (
    CONF_ASSUMED_SOC,
    CONF_CAPACITY_KWH,
    CONF_COMFORT_MAX,
    CONF_COMFORT_MIN,
    CONF_CONTROL_ENTITY,
    CONF_COP,
    CONF_DEPARTURE,
    CONF_EFFICIENCY,
    CONF_FIXED_PRICE,
    CONF_GRID_LIMIT_KW,
    CONF_HEAT_CAPACITY,
    CONF_HEAT_LOSS,
    CONF_HORIZON_HOURS,
    CONF_INDOOR_ENTITY,
    CONF_INTERVAL_MINUTES,
    CONF_MIN_POWER_KW,
    CONF_OUTDOOR_ENTITY,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_KW,
    CONF_PRICE_ATTRIBUTE,
    CONF_PRICE_ENTITY,
    CONF_RELAX,
    CONF_RESOLUTION_MINUTES,
    CONF_SOC_ENTITY,
    CONF_TARGET_SOC,
    CONF_TOKEN,
    CONF_URL,
    DEFAULT_DEPARTURE,
    DEFAULT_FIXED_PRICE,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_PORT,
    DEFAULT_RESOLUTION_MINUTES,
    DEFAULT_TARGET_SOC,
    DOMAIN,
    LOGGER,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
)

_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _number(low: float, high: float, step: float, unit: str | None = None) -> NumberSelector:
    config = NumberSelectorConfig(min=low, max=high, step=step, mode=NumberSelectorMode.BOX)
    if unit is not None:
        config["unit_of_measurement"] = unit
    return NumberSelector(config)


class FlexEmsConfigFlow(ConfigFlow, domain=DOMAIN):
    VERSION = 1
    _discovered: dict[str, Any]

    async def _check(self, url: str, token: str) -> dict[str, str]:
        """Errors by field if the add-on at `url` does not accept `token`."""
        client = FlexEmsClient(async_get_clientsession(self.hass), url, token)
        try:
            await client.version()
        except FlexEmsAuthError:
            return {CONF_TOKEN: "invalid_auth"}
        except FlexEmsConnectionError:
            return {CONF_URL: "cannot_connect"}
        except FlexEmsError:
            LOGGER.exception("Unexpected answer from the add-on at %s", url)
            return {"base": "unknown"}
        return {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            url = user_input[CONF_URL].rstrip("/")
            self._async_abort_entries_match({CONF_URL: url})
            errors = await self._check(url, user_input.get(CONF_TOKEN, ""))
            if not errors:
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
                        vol.Optional(CONF_TOKEN): _PASSWORD,
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
        await self.async_set_unique_id(discovery_info.uuid)
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
            data_schema=vol.Schema({vol.Required(CONF_TOKEN): _PASSWORD}),
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
                vol.Schema({vol.Required(CONF_URL): str, vol.Optional(CONF_TOKEN): _PASSWORD}),
                {CONF_URL: entry.data[CONF_URL]},
            ),
            errors=errors,
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        return FlexEmsOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        return {
            SUBENTRY_BATTERY: BatterySubentryFlow,
            SUBENTRY_EV: EvSubentryFlow,
            SUBENTRY_HEAT_PUMP: HeatPumpSubentryFlow,
        }


class FlexEmsOptionsFlow(OptionsFlow):
    """How and when to plan, and the site: prices and the grid connection."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        schema = vol.Schema(
            {
                vol.Required(CONF_INTERVAL_MINUTES, default=15): _number(5, 240, 5, "min"),
                vol.Required(CONF_HORIZON_HOURS, default=DEFAULT_HORIZON_HOURS): _number(
                    1, 168, 1, "h"
                ),
                vol.Required(CONF_RESOLUTION_MINUTES, default=DEFAULT_RESOLUTION_MINUTES): vol.In(
                    [5, 15, 30, 60]
                ),
                vol.Required(CONF_RELAX, default=True): BooleanSelector(),
                vol.Optional(CONF_PRICE_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="sensor")
                ),
                vol.Optional(CONF_PRICE_ATTRIBUTE, default="prices"): str,
                vol.Optional(CONF_FIXED_PRICE, default=DEFAULT_FIXED_PRICE): _number(-1, 5, 0.001),
                vol.Optional(CONF_GRID_LIMIT_KW): _number(1, 1000, 0.1, "kW"),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, self.config_entry.options),
        )


class BatterySubentryFlow(ConfigSubentryFlow):
    """A battery: its SoC sensor and what it can do."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        if user_input is not None:
            name = user_input.pop("name")
            return self.async_create_entry(title=name, data=user_input)
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required("name", default="battery"): str,
                    vol.Required(CONF_SOC_ENTITY): EntitySelector(
                        EntitySelectorConfig(domain="sensor", device_class="battery")
                    ),
                    vol.Required(CONF_CAPACITY_KWH): _number(0.1, 1000, 0.1, "kWh"),
                    vol.Required(CONF_POWER_KW): _number(0.1, 500, 0.1, "kW"),
                    vol.Required(CONF_EFFICIENCY, default=90): _number(50, 100, 1, "%"),
                    vol.Optional(CONF_CONTROL_ENTITY): EntitySelector(
                        EntitySelectorConfig(domain=["number", "input_number"])
                    ),
                }
            ),
        )


class EvSubentryFlow(ConfigSubentryFlow):
    """An EV: its battery, how it charges, whether it is plugged in, and when it leaves."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            if not user_input.get(CONF_SOC_ENTITY) and user_input.get(CONF_ASSUMED_SOC) is None:
                errors[CONF_SOC_ENTITY] = "soc_needed"
            else:
                name = user_input.pop("name")
                return self.async_create_entry(title=name, data=user_input)
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required("name", default="EV"): str,
                    vol.Required(CONF_CAPACITY_KWH): _number(5, 250, 0.1, "kWh"),
                    vol.Required(CONF_POWER_KW): _number(1, 350, 0.1, "kW"),
                    vol.Optional(CONF_SOC_ENTITY): EntitySelector(
                        EntitySelectorConfig(domain="sensor")
                    ),
                    vol.Optional(CONF_ASSUMED_SOC): _number(0, 100, 1, "%"),
                    vol.Optional(CONF_PLUGGED_ENTITY): EntitySelector(
                        EntitySelectorConfig(domain="binary_sensor")
                    ),
                    vol.Required(CONF_TARGET_SOC, default=DEFAULT_TARGET_SOC): _number(
                        0, 100, 5, "%"
                    ),
                    vol.Required(CONF_DEPARTURE, default=DEFAULT_DEPARTURE): TimeSelector(),
                }
            ),
            errors=errors,
        )


class HeatPumpSubentryFlow(ConfigSubentryFlow):
    """A heat pump heating a building: its power and COP, the building's thermal model and the
    comfort band, and the temperature sensors indoors and outdoors."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_COMFORT_MIN] >= user_input[CONF_COMFORT_MAX]:
                errors[CONF_COMFORT_MIN] = "comfort_band"
            else:
                name = user_input.pop("name")
                return self.async_create_entry(title=name, data=user_input)
        temperature = EntitySelector(
            EntitySelectorConfig(domain="sensor", device_class="temperature")
        )
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required("name", default="heat pump"): str,
                    vol.Required(CONF_POWER_KW): _number(0.5, 50, 0.1, "kW"),
                    vol.Optional(CONF_MIN_POWER_KW): _number(0, 50, 0.1, "kW"),
                    vol.Required(CONF_COP, default=3.0): _number(1, 8, 0.1),
                    vol.Required(CONF_INDOOR_ENTITY): temperature,
                    vol.Required(CONF_OUTDOOR_ENTITY): temperature,
                    vol.Required(CONF_HEAT_CAPACITY, default=10): _number(0.5, 200, 0.5, "kWh/K"),
                    vol.Required(CONF_HEAT_LOSS, default=0.2): _number(0.01, 5, 0.01, "kW/K"),
                    vol.Required(CONF_COMFORT_MIN, default=19): _number(5, 30, 0.5, "°C"),
                    vol.Required(CONF_COMFORT_MAX, default=22): _number(5, 30, 0.5, "°C"),
                }
            ),
            errors=errors,
        )
