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
    SubentryFlowResult,
)
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    ConfigEntrySelector,
    ConfigEntrySelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from . import forecasts
from .client import FlexEmsAuthError, FlexEmsClient, FlexEmsConnectionError, FlexEmsError
from .const import (
    CONF_ASSUMED_SOC,
    CONF_BREAKABLE,
    CONF_CAPACITY_KWH,
    CONF_CHARGE_OPTION,
    CONF_COMFORT_MAX,
    CONF_COMFORT_MIN,
    CONF_CONTROL_ENTITY,
    CONF_COP,
    CONF_DEADLINE,
    CONF_DEPARTURE,
    CONF_DISCHARGE_OPTION,
    CONF_DURATION_MINUTES,
    CONF_EARLIEST_START,
    CONF_EFFICIENCY,
    CONF_END_SOC,
    CONF_FALLBACK,
    CONF_FIXED_PRICE,
    CONF_FORECAST_ENTRIES,
    CONF_GRID_LIMIT_KW,
    CONF_HEAT_CAPACITY,
    CONF_HEAT_LOSS,
    CONF_HEATS,
    CONF_HORIZON_HOURS,
    CONF_HOT_WATER_KWH_PER_DAY,
    CONF_IDLE_OPTION,
    CONF_INDOOR_ENTITY,
    CONF_LOAD_ENTITY,
    CONF_LOAD_EXCLUDED,
    CONF_LOAD_WEEKS,
    CONF_MIN_POWER_KW,
    CONF_NORDPOOL_AREA,
    CONF_NORDPOOL_ENTRY,
    CONF_OUTDOOR_ENTITY,
    CONF_PEAK_PRICE,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_KW,
    CONF_PRICE_ATTRIBUTE,
    CONF_PRICE_ENTITY,
    CONF_PRICE_MARKUP,
    CONF_PRICE_SOURCE,
    CONF_PRODUCTION_ATTRIBUTE,
    CONF_PRODUCTION_ENTITY,
    CONF_PRODUCTION_FIXED,
    CONF_PRODUCTION_SOURCE,
    CONF_PROFILE,
    CONF_RELAX,
    CONF_RESERVE_SOC,
    CONF_RESOLUTION_MINUTES,
    CONF_SETPOINT_SIGN,
    CONF_SOC_ENTITY,
    CONF_STALE_ISSUE_MINUTES,
    CONF_TANK_ENTITY,
    CONF_TANK_LITRES,
    CONF_TANK_LOSS_W_PER_K,
    CONF_TANK_MAX,
    CONF_TANK_MIN,
    CONF_TANK_TARGET,
    CONF_TANK_TARGET_TIME,
    CONF_TARGET_SOC,
    CONF_TOKEN,
    CONF_URL,
    CONF_WEATHER_ENTITY,
    DEFAULT_DEPARTURE,
    DEFAULT_EV_MIN_POWER_KW,
    DEFAULT_FIXED_PRICE,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_LOAD_WEEKS,
    DEFAULT_PORT,
    DEFAULT_RESERVE_SOC,
    DEFAULT_RESOLUTION_MINUTES,
    DEFAULT_STALE_ISSUE_MINUTES,
    DEFAULT_TARGET_SOC,
    DOMAIN,
    FALLBACK_IDLE,
    FALLBACK_OWN,
    FALLBACKS,
    HEATS_BUFFER,
    HEATS_BUILDING,
    LOGGER,
    SIGN_CONSUMPTION_POSITIVE,
    SIGN_PRODUCTION_POSITIVE,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
    SUBENTRY_PV,
)
from .prices import (
    NORDPOOL_DOMAIN,
    SOURCE_FIXED,
    SOURCE_NORDPOOL,
    SOURCE_SAME,
    SOURCE_SENSOR,
)

_TEMPERATURE = EntitySelector(EntitySelectorConfig(domain="sensor", device_class="temperature"))
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
            SUBENTRY_APPLIANCE: ApplianceSubentryFlow,
            SUBENTRY_PV: PvSubentryFlow,
        }


def _merge(
    options: dict[str, Any], schema: vol.Schema, user_input: dict[str, Any]
) -> dict[str, Any]:
    """The options with this form's fields as given: an optional field left empty is removed."""
    keys = {str(key) for key in schema.schema}
    return {**{k: v for k, v in options.items() if k not in keys}, **user_input}


def _choice(translation_key: str, options: list[str]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=options, translation_key=translation_key, mode=SelectSelectorMode.DROPDOWN
        )
    )


_SENSOR = EntitySelector(EntitySelectorConfig(domain="sensor"))


class FlexEmsOptionsFlow(OptionsFlow):
    """How and when to plan; the site: its prices, grid connection and load forecast."""

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        current = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Required(CONF_HORIZON_HOURS, default=DEFAULT_HORIZON_HOURS): _number(
                    1, 168, 1, "h"
                ),
                vol.Required(CONF_RESOLUTION_MINUTES, default=DEFAULT_RESOLUTION_MINUTES): vol.In(
                    [5, 15, 30, 60]
                ),
                vol.Required(CONF_RELAX, default=True): BooleanSelector(),
                vol.Required(CONF_PRICE_SOURCE, default=SOURCE_FIXED): _choice(
                    "price_source", [SOURCE_SENSOR, SOURCE_NORDPOOL, SOURCE_FIXED]
                ),
                vol.Required(CONF_PRODUCTION_SOURCE, default=SOURCE_SAME): _choice(
                    "production_price_source",
                    [SOURCE_SAME, SOURCE_SENSOR, SOURCE_NORDPOOL, SOURCE_FIXED],
                ),
                vol.Optional(CONF_GRID_LIMIT_KW): _number(1, 1000, 0.1, "kW"),
                vol.Optional(CONF_PEAK_PRICE): _number(0, 100, 0.01),
                vol.Required(
                    CONF_STALE_ISSUE_MINUTES, default=DEFAULT_STALE_ISSUE_MINUTES
                ): _number(5, 1440, 5, "min"),
            }
        )
        if user_input is not None:
            self._options = _merge(dict(current), schema, user_input)
            return await self.async_step_prices()
        suggested = dict(current)
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
            fields[vol.Optional(CONF_PRICE_ENTITY)] = _SENSOR
            fields[vol.Required(CONF_PRICE_ATTRIBUTE, default="prices")] = str
        if consumption == SOURCE_FIXED:
            fields[vol.Required(CONF_FIXED_PRICE, default=DEFAULT_FIXED_PRICE)] = _number(
                -1, 5, 0.001
            )
        if SOURCE_NORDPOOL in (consumption, production):
            fields[vol.Optional(CONF_NORDPOOL_ENTRY)] = ConfigEntrySelector(
                ConfigEntrySelectorConfig(integration=NORDPOOL_DOMAIN)
            )
            fields[vol.Optional(CONF_NORDPOOL_AREA)] = str
        if consumption != SOURCE_FIXED:
            fields[vol.Optional(CONF_PRICE_MARKUP, default=0.0)] = _number(-1, 5, 0.001)
        if production == SOURCE_SENSOR:
            fields[vol.Optional(CONF_PRODUCTION_ENTITY)] = _SENSOR
            fields[vol.Required(CONF_PRODUCTION_ATTRIBUTE, default="prices")] = str
        if production == SOURCE_FIXED:
            fields[vol.Required(CONF_PRODUCTION_FIXED, default=0.0)] = _number(-1, 5, 0.001)
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
                vol.Required(CONF_LOAD_WEEKS, default=DEFAULT_LOAD_WEEKS): _number(1, 12, 1),
            }
        )
        if user_input is not None:
            return self.async_create_entry(data=_merge(self._options, schema, user_input))
        return self.async_show_form(
            step_id="forecasts",
            data_schema=self.add_suggested_values_to_schema(schema, self._options),
        )


def _fallback_field(default: str) -> dict[Any, Any]:
    """What the asset does without a current plan."""
    return {vol.Required(CONF_FALLBACK, default=default): _choice("fallback", list(FALLBACKS))}


def _control_fields(domains: list[str], fallback: str) -> dict[Any, Any]:
    """The optional control entity, how a plan maps onto it, and its fallback."""
    return {
        vol.Optional(CONF_CONTROL_ENTITY): EntitySelector(EntitySelectorConfig(domain=domains)),
        **_fallback_field(fallback),
        vol.Optional(CONF_SETPOINT_SIGN, default=SIGN_CONSUMPTION_POSITIVE): _choice(
            "setpoint_sign", [SIGN_CONSUMPTION_POSITIVE, SIGN_PRODUCTION_POSITIVE]
        ),
        vol.Optional(CONF_CHARGE_OPTION): str,
        vol.Optional(CONF_DISCHARGE_OPTION): str,
        vol.Optional(CONF_IDLE_OPTION): str,
    }


def _control_errors(hass: Any, user_input: dict[str, Any], needs_discharge: bool) -> dict[str, str]:
    """A select needs the option names for each direction, and they must be its options."""
    control = user_input.get(CONF_CONTROL_ENTITY)
    if not control or control.split(".", 1)[0] not in ("select", "input_select"):
        return {}
    wanted = [CONF_CHARGE_OPTION, CONF_IDLE_OPTION] + (
        [CONF_DISCHARGE_OPTION] if needs_discharge else []
    )
    state = hass.states.get(control)
    options = list(state.attributes.get("options", [])) if state else []
    for key in wanted:
        if not user_input.get(key):
            return {key: "option_needed"}
        if options and user_input[key] not in options:
            return {key: "not_an_option"}
    return {}


def _create(flow: ConfigSubentryFlow, user_input: dict[str, Any]) -> SubentryFlowResult:
    name = user_input.pop("name")
    return flow.async_create_entry(title=name, data=user_input)


class BatterySubentryFlow(ConfigSubentryFlow):
    """A battery: its SoC sensor, what it can do, and optionally what controls it."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _control_errors(self.hass, user_input, needs_discharge=True)
            if not errors:
                return _create(self, user_input)
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
                    vol.Required(CONF_RESERVE_SOC, default=DEFAULT_RESERVE_SOC): _number(
                        0, 100, 1, "%"
                    ),
                    vol.Optional(CONF_END_SOC): _number(0, 100, 1, "%"),
                    **_control_fields(
                        ["number", "input_number", "select", "input_select"], FALLBACK_IDLE
                    ),
                }
            ),
            errors=errors,
        )


class EvSubentryFlow(ConfigSubentryFlow):
    """An EV: its battery, how it charges, whether it is plugged in, and when it leaves."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            if not user_input.get(CONF_SOC_ENTITY) and user_input.get(CONF_ASSUMED_SOC) is None:
                errors[CONF_SOC_ENTITY] = "soc_needed"
            else:
                return _create(self, user_input)
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required("name", default="EV"): str,
                    vol.Required(CONF_CAPACITY_KWH): _number(5, 250, 0.1, "kWh"),
                    vol.Required(CONF_POWER_KW): _number(1, 350, 0.1, "kW"),
                    vol.Required(CONF_MIN_POWER_KW, default=DEFAULT_EV_MIN_POWER_KW): _number(
                        0, 50, 0.1, "kW"
                    ),
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
                    vol.Optional(CONF_CONTROL_ENTITY): EntitySelector(
                        EntitySelectorConfig(
                            domain=["number", "input_number", "switch", "input_boolean"]
                        )
                    ),
                    **_fallback_field(FALLBACK_IDLE),
                }
            ),
            errors=errors,
        )


class HeatPumpSubentryFlow(ConfigSubentryFlow):
    """A heat pump heating a building (its thermal model and comfort band) or a hot-water
    buffer (its tank, temperatures and daily use)."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        return self.async_show_menu(step_id="user", menu_options=[HEATS_BUILDING, HEATS_BUFFER])

    def _common(self, name: str) -> dict[Any, Any]:
        return {
            vol.Required("name", default=name): str,
            vol.Required(CONF_POWER_KW): _number(0.5, 50, 0.1, "kW"),
            vol.Optional(CONF_MIN_POWER_KW): _number(0, 50, 0.1, "kW"),
            vol.Required(CONF_COP, default=3.0): _number(1, 8, 0.1),
        }

    async def async_step_building(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_COMFORT_MIN] >= user_input[CONF_COMFORT_MAX]:
                errors[CONF_COMFORT_MIN] = "comfort_band"
            else:
                errors = _control_errors(self.hass, user_input, needs_discharge=False)
            if not errors:
                return _create(self, {**user_input, CONF_HEATS: HEATS_BUILDING})
        return self.async_show_form(
            step_id="building",
            data_schema=vol.Schema(
                {
                    **self._common("heat pump"),
                    vol.Required(CONF_INDOOR_ENTITY): _TEMPERATURE,
                    vol.Required(CONF_OUTDOOR_ENTITY): _TEMPERATURE,
                    vol.Optional(CONF_WEATHER_ENTITY): EntitySelector(
                        EntitySelectorConfig(domain="weather")
                    ),
                    vol.Required(CONF_HEAT_CAPACITY, default=10): _number(0.5, 200, 0.5, "kWh/K"),
                    vol.Required(CONF_HEAT_LOSS, default=0.2): _number(0.01, 5, 0.01, "kW/K"),
                    vol.Required(CONF_COMFORT_MIN, default=19): _number(5, 30, 0.5, "°C"),
                    vol.Required(CONF_COMFORT_MAX, default=22): _number(5, 30, 0.5, "°C"),
                    **_control_fields(
                        ["climate", "switch", "input_boolean", "select", "input_select"],
                        FALLBACK_OWN,
                    ),
                }
            ),
            errors=errors,
        )

    async def async_step_buffer(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_TANK_MIN] >= user_input[CONF_TANK_MAX]:
                errors[CONF_TANK_MIN] = "tank_band"
            elif user_input.get(CONF_TANK_TARGET) and not (
                user_input[CONF_TANK_MIN]
                <= user_input[CONF_TANK_TARGET]
                <= user_input[CONF_TANK_MAX]
            ):
                errors[CONF_TANK_TARGET] = "tank_target"
            else:
                errors = _control_errors(self.hass, user_input, needs_discharge=False)
            if not errors:
                return _create(self, {**user_input, CONF_HEATS: HEATS_BUFFER})
        return self.async_show_form(
            step_id="buffer",
            data_schema=vol.Schema(
                {
                    **self._common("hot water"),
                    vol.Required(CONF_TANK_ENTITY): _TEMPERATURE,
                    vol.Required(CONF_TANK_LITRES, default=200): _number(20, 5000, 10, "L"),
                    vol.Required(CONF_TANK_MIN, default=45): _number(20, 95, 1, "°C"),
                    vol.Required(CONF_TANK_MAX, default=60): _number(20, 95, 1, "°C"),
                    vol.Optional(CONF_TANK_TARGET): _number(20, 95, 1, "°C"),
                    vol.Optional(CONF_TANK_TARGET_TIME, default="07:00:00"): TimeSelector(),
                    vol.Required(CONF_TANK_LOSS_W_PER_K, default=2.0): _number(0, 50, 0.1, "W/K"),
                    vol.Required(CONF_HOT_WATER_KWH_PER_DAY, default=4.0): _number(
                        0, 100, 0.1, "kWh"
                    ),
                    **_control_fields(
                        ["switch", "input_boolean", "select", "input_select"], FALLBACK_OWN
                    ),
                }
            ),
            errors=errors,
        )


class PvSubentryFlow(ConfigSubentryFlow):
    """Solar panels: the forecast their production is read from."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        providers = await forecasts.solar_forecast_entries(self.hass)
        if user_input is not None:
            chosen = user_input.get(CONF_FORECAST_ENTRIES) or []
            if not chosen and not await forecasts.dashboard_solar_entries(self.hass):
                errors[CONF_FORECAST_ENTRIES] = "forecast_needed"
            else:
                return _create(self, {**user_input, CONF_FORECAST_ENTRIES: chosen})
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required("name", default="solar panels"): str,
                    vol.Optional(CONF_FORECAST_ENTRIES): SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                SelectOptionDict(value=entry_id, label=title)
                                for entry_id, title in providers.items()
                            ],
                            multiple=True,
                            mode=SelectSelectorMode.LIST,
                        )
                    ),
                }
            ),
            errors=errors,
        )


class ApplianceSubentryFlow(ConfigSubentryFlow):
    """A shiftable appliance (washing machine, dishwasher): its power or power profile, the
    window it may run in, and optionally what starts it."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            profile = str(user_input.get(CONF_PROFILE) or "")
            try:
                quarters = [float(p) for p in profile.replace(";", ",").split(",") if p.strip()]
            except ValueError:
                errors[CONF_PROFILE] = "profile"
            else:
                if any(kw < 0 for kw in quarters):
                    errors[CONF_PROFILE] = "profile"
                elif not quarters and not (
                    user_input.get(CONF_POWER_KW) and user_input.get(CONF_DURATION_MINUTES)
                ):
                    errors[CONF_POWER_KW] = "power_or_profile"
                elif quarters and user_input.get(CONF_BREAKABLE):
                    errors[CONF_BREAKABLE] = "breakable_profile"
            if not errors:
                return _create(self, user_input)
        return self.async_show_form(
            step_id="user",
            data_schema=vol.Schema(
                {
                    vol.Required("name", default="dishwasher"): str,
                    vol.Optional(CONF_POWER_KW): _number(0.05, 50, 0.05, "kW"),
                    vol.Optional(CONF_DURATION_MINUTES): _number(15, 1440, 15, "min"),
                    vol.Optional(CONF_PROFILE): str,
                    vol.Optional(CONF_EARLIEST_START): TimeSelector(),
                    vol.Optional(CONF_DEADLINE): TimeSelector(),
                    vol.Required(CONF_BREAKABLE, default=False): BooleanSelector(),
                    vol.Optional(CONF_CONTROL_ENTITY): EntitySelector(
                        EntitySelectorConfig(
                            domain=["switch", "input_boolean", "button", "input_button", "script"]
                        )
                    ),
                }
            ),
            errors=errors,
        )
