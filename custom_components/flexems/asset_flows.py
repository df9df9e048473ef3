"""A subentry flow per asset kind: add it, and change it later (reconfigure).

Each kind has one form, shown empty with typical values to add an asset and filled with the
asset's settings to change it. Changing an asset keeps its subentry, so its device, entities,
history and "Apply plan" choice stay; the entry reloads once.
"""

from __future__ import annotations

from typing import Any

import probatio as vol
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TimeSelector,
)

from . import forecasts
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
    CONF_FORECAST_ENTRIES,
    CONF_HEAT_CAPACITY,
    CONF_HEAT_LOSS,
    CONF_HEATS,
    CONF_HOT_WATER_KWH_PER_DAY,
    CONF_IDLE_OPTION,
    CONF_INDOOR_ENTITY,
    CONF_MIN_OFF_MINUTES,
    CONF_MIN_POWER_KW,
    CONF_MIN_RUN_MINUTES,
    CONF_OUTDOOR_ENTITY,
    CONF_PLUGGED_ENTITY,
    CONF_POWER_KW,
    CONF_PROFILE,
    CONF_RESERVE_SOC,
    CONF_SETPOINT_SIGN,
    CONF_SOC_ENTITY,
    CONF_TANK_ENTITY,
    CONF_TANK_LITRES,
    CONF_TANK_LOSS_W_PER_K,
    CONF_TANK_MAX,
    CONF_TANK_MIN,
    CONF_TANK_TARGET,
    CONF_TANK_TARGET_TIME,
    CONF_TARGET_SOC,
    CONF_WEATHER_ENTITY,
    DEFAULT_DEPARTURE,
    DEFAULT_EV_MIN_POWER_KW,
    DEFAULT_RESERVE_SOC,
    DEFAULT_TARGET_SOC,
    FALLBACK_IDLE,
    FALLBACK_OWN,
    FALLBACKS,
    HEATS_BUFFER,
    HEATS_BUILDING,
    SIGN_CONSUMPTION_POSITIVE,
    SIGN_PRODUCTION_POSITIVE,
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
    SUBENTRY_PV,
)
from .form_fields import TEMPERATURE, choice, number
from .problem import run_times, starts_and_stops

NAME = "name"


def _fallback_field(default: str) -> dict[Any, Any]:
    """What the asset does without a current plan."""
    return {vol.Required(CONF_FALLBACK, default=default): choice("fallback", list(FALLBACKS))}


def _select_options(*keys: str) -> dict[Any, Any]:
    """For a select control: which of its options each planned direction is."""
    return {vol.Optional(key): str for key in keys}


def _control_errors(hass: Any, user_input: dict[str, Any], wanted: list[str]) -> dict[str, str]:
    """A select needs the option names it is given, and they must be its options."""
    control = user_input.get(CONF_CONTROL_ENTITY)
    if not control or control.split(".", 1)[0] not in ("select", "input_select"):
        return {}
    state = hass.states.get(control)
    options = list(state.attributes.get("options", [])) if state else []
    for key in wanted:
        if not user_input.get(key):
            return {key: "option_needed"}
        if options and user_input[key] not in options:
            return {key: "not_an_option"}
    return {}


class AssetFlow(ConfigSubentryFlow):
    """Adding and changing one kind of asset with the same form.

    A kind gives its form (`schema`) and checks (`errors`); a step shows the form, empty or
    with the asset's settings, and creates or updates the subentry.
    """

    def schema(self, step_id: str) -> vol.Schema:  # pragma: no cover - every kind has one
        raise NotImplementedError

    def errors(self, step_id: str, user_input: dict[str, Any]) -> dict[str, str]:
        raise NotImplementedError  # pragma: no cover - every kind checks its form

    def fixed(self, step_id: str) -> dict[str, Any]:
        """Settings the step implies rather than asks (e.g. what a heat pump heats)."""
        return {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        return await self._form("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        return await self._form("user", user_input)

    async def _form(self, step_id: str, user_input: dict[str, Any] | None) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self.errors(step_id, user_input)
            if not errors:
                data = {**user_input, **self.fixed(step_id)}
                name = data.pop(NAME)
                if self.source == SOURCE_RECONFIGURE:
                    # The form's fields replace the old settings; an optional field left
                    # empty is removed. The entry's update listener reloads it once.
                    return self.async_update_and_abort(
                        self._get_entry(), self._get_reconfigure_subentry(), title=name, data=data
                    )
                return self.async_create_entry(title=name, data=data)
        schema = self.schema(step_id)
        if self.source == SOURCE_RECONFIGURE and user_input is None:
            subentry = self._get_reconfigure_subentry()
            user_input = {**subentry.data, NAME: subentry.title}
        return self.async_show_form(
            step_id=step_id if self.source != SOURCE_RECONFIGURE else "reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
        )


class BatterySubentryFlow(AssetFlow):
    """A battery: its SoC sensor, what it can do, its reserve, and what controls it."""

    def schema(self, step_id: str) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(NAME, default="battery"): str,
                vol.Required(CONF_SOC_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="sensor", device_class="battery")
                ),
                vol.Required(CONF_CAPACITY_KWH, default=10): number(0.1, 1000, 0.1, "kWh"),
                vol.Required(CONF_POWER_KW, default=5): number(0.1, 500, 0.1, "kW"),
                vol.Required(CONF_EFFICIENCY, default=90): number(50, 100, 1, "%"),
                vol.Required(CONF_RESERVE_SOC, default=DEFAULT_RESERVE_SOC): number(0, 100, 1, "%"),
                vol.Optional(CONF_END_SOC): number(0, 100, 1, "%"),
                vol.Optional(CONF_CONTROL_ENTITY): EntitySelector(
                    EntitySelectorConfig(
                        domain=["number", "input_number", "select", "input_select"]
                    )
                ),
                vol.Optional(CONF_SETPOINT_SIGN, default=SIGN_CONSUMPTION_POSITIVE): choice(
                    "setpoint_sign", [SIGN_CONSUMPTION_POSITIVE, SIGN_PRODUCTION_POSITIVE]
                ),
                **_select_options(CONF_CHARGE_OPTION, CONF_DISCHARGE_OPTION, CONF_IDLE_OPTION),
                **_fallback_field(FALLBACK_IDLE),
            }
        )

    def errors(self, step_id: str, user_input: dict[str, Any]) -> dict[str, str]:
        wanted = [CONF_CHARGE_OPTION, CONF_IDLE_OPTION, CONF_DISCHARGE_OPTION]
        return _control_errors(self.hass, user_input, wanted)


class EvSubentryFlow(AssetFlow):
    """An EV: its battery, how it charges, whether it is plugged in, and when it leaves."""

    def schema(self, step_id: str) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(NAME, default="EV"): str,
                vol.Required(CONF_CAPACITY_KWH, default=60): number(5, 250, 0.1, "kWh"),
                vol.Required(CONF_POWER_KW, default=11): number(1, 350, 0.1, "kW"),
                vol.Required(CONF_MIN_POWER_KW, default=DEFAULT_EV_MIN_POWER_KW): number(
                    0, 50, 0.1, "kW"
                ),
                vol.Optional(CONF_SOC_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="sensor")
                ),
                vol.Optional(CONF_ASSUMED_SOC): number(0, 100, 1, "%"),
                vol.Optional(CONF_PLUGGED_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="binary_sensor")
                ),
                vol.Required(CONF_TARGET_SOC, default=DEFAULT_TARGET_SOC): number(0, 100, 5, "%"),
                vol.Required(CONF_DEPARTURE, default=DEFAULT_DEPARTURE): TimeSelector(),
                vol.Optional(CONF_CONTROL_ENTITY): EntitySelector(
                    EntitySelectorConfig(
                        domain=["number", "input_number", "switch", "input_boolean"]
                    )
                ),
                **_fallback_field(FALLBACK_IDLE),
            }
        )

    def errors(self, step_id: str, user_input: dict[str, Any]) -> dict[str, str]:
        if not user_input.get(CONF_SOC_ENTITY) and user_input.get(CONF_ASSUMED_SOC) is None:
            return {CONF_SOC_ENTITY: "soc_needed"}
        return {}


class HeatPumpSubentryFlow(AssetFlow):
    """A heat pump heating a building (its thermal model and comfort band) or a hot-water
    buffer (its tank, temperatures and daily use)."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        return self.async_show_menu(step_id="user", menu_options=[HEATS_BUILDING, HEATS_BUFFER])

    async def async_step_building(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        return await self._form(HEATS_BUILDING, user_input)

    async def async_step_buffer(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        return await self._form(HEATS_BUFFER, user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        heats = self._get_reconfigure_subentry().data.get(CONF_HEATS) or HEATS_BUILDING
        return await self._form(heats, user_input)

    def fixed(self, step_id: str) -> dict[str, Any]:
        return {CONF_HEATS: step_id}

    def _common(self, name: str) -> dict[Any, Any]:
        return {
            vol.Required(NAME, default=name): str,
            vol.Required(CONF_POWER_KW, default=3): number(0.5, 50, 0.1, "kW"),
            vol.Optional(CONF_MIN_POWER_KW): number(0, 50, 0.1, "kW"),
            vol.Optional(CONF_MIN_RUN_MINUTES): number(0, 480, 5, "min"),
            vol.Optional(CONF_MIN_OFF_MINUTES): number(0, 480, 5, "min"),
            vol.Required(CONF_COP, default=3.0): number(1, 8, 0.1),
        }

    def _controls(self, domains: list[str]) -> dict[Any, Any]:
        """A heat pump is run or not: a select needs the options for running and idling."""
        return {
            vol.Optional(CONF_CONTROL_ENTITY): EntitySelector(EntitySelectorConfig(domain=domains)),
            **_select_options(CONF_CHARGE_OPTION, CONF_IDLE_OPTION),
            **_fallback_field(FALLBACK_OWN),
        }

    def schema(self, step_id: str) -> vol.Schema:
        if step_id == HEATS_BUFFER:
            return vol.Schema(
                {
                    **self._common("hot water"),
                    vol.Required(CONF_TANK_ENTITY): TEMPERATURE,
                    vol.Required(CONF_TANK_LITRES, default=200): number(20, 5000, 10, "L"),
                    vol.Required(CONF_TANK_MIN, default=45): number(20, 95, 1, "°C"),
                    vol.Required(CONF_TANK_MAX, default=60): number(20, 95, 1, "°C"),
                    vol.Optional(CONF_TANK_TARGET): number(20, 95, 1, "°C"),
                    vol.Optional(CONF_TANK_TARGET_TIME, default="07:00:00"): TimeSelector(),
                    vol.Required(CONF_TANK_LOSS_W_PER_K, default=2.0): number(0, 50, 0.1, "W/K"),
                    vol.Required(CONF_HOT_WATER_KWH_PER_DAY, default=4.0): number(
                        0, 100, 0.1, "kWh"
                    ),
                    **self._controls(["switch", "input_boolean", "select", "input_select"]),
                }
            )
        return vol.Schema(
            {
                **self._common("heat pump"),
                vol.Required(CONF_INDOOR_ENTITY): TEMPERATURE,
                vol.Required(CONF_OUTDOOR_ENTITY): TEMPERATURE,
                vol.Optional(CONF_WEATHER_ENTITY): EntitySelector(
                    EntitySelectorConfig(domain="weather")
                ),
                vol.Required(CONF_HEAT_CAPACITY, default=10): number(0.5, 200, 0.5, "kWh/K"),
                vol.Required(CONF_HEAT_LOSS, default=0.2): number(0.01, 5, 0.01, "kW/K"),
                vol.Required(CONF_COMFORT_MIN, default=19): number(5, 30, 0.5, "°C"),
                vol.Required(CONF_COMFORT_MAX, default=22): number(5, 30, 0.5, "°C"),
                **self._controls(["climate", "switch", "input_boolean", "select", "input_select"]),
            }
        )

    def errors(self, step_id: str, user_input: dict[str, Any]) -> dict[str, str]:
        if step_id == HEATS_BUFFER:
            low, high = user_input[CONF_TANK_MIN], user_input[CONF_TANK_MAX]
            if low >= high:
                return {CONF_TANK_MIN: "tank_band"}
            target = user_input.get(CONF_TANK_TARGET)
            if target and not low <= target <= high:
                return {CONF_TANK_TARGET: "tank_target"}
        elif user_input[CONF_COMFORT_MIN] >= user_input[CONF_COMFORT_MAX]:
            return {CONF_COMFORT_MIN: "comfort_band"}
        if run_times(user_input) and not starts_and_stops(user_input):
            return {CONF_MIN_RUN_MINUTES: "run_times_need_on_off"}
        return _control_errors(self.hass, user_input, [CONF_CHARGE_OPTION, CONF_IDLE_OPTION])


class PvSubentryFlow(AssetFlow):
    """Solar panels: the forecast their production is read from."""

    providers: dict[str, str]

    async def _form(self, step_id: str, user_input: dict[str, Any] | None) -> SubentryFlowResult:
        self.providers = await forecasts.solar_forecast_entries(self.hass)
        self.dashboard = bool(await forecasts.dashboard_solar_entries(self.hass))
        if user_input is not None:
            user_input = {
                **user_input,
                CONF_FORECAST_ENTRIES: user_input.get(CONF_FORECAST_ENTRIES) or [],
            }
        return await super()._form(step_id, user_input)

    def schema(self, step_id: str) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(NAME, default="solar panels"): str,
                vol.Optional(CONF_FORECAST_ENTRIES): SelectSelector(
                    SelectSelectorConfig(
                        options=[
                            SelectOptionDict(value=entry_id, label=title)
                            for entry_id, title in self.providers.items()
                        ],
                        multiple=True,
                        mode=SelectSelectorMode.LIST,
                    )
                ),
            }
        )

    def errors(self, step_id: str, user_input: dict[str, Any]) -> dict[str, str]:
        if not user_input[CONF_FORECAST_ENTRIES] and not self.dashboard:
            return {CONF_FORECAST_ENTRIES: "forecast_needed"}
        return {}


class ApplianceSubentryFlow(AssetFlow):
    """A shiftable appliance (washing machine, dishwasher): its power or power profile, the
    window it may run in, and optionally what starts it."""

    def schema(self, step_id: str) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(NAME, default="dishwasher"): str,
                vol.Optional(CONF_POWER_KW): number(0.05, 50, 0.05, "kW"),
                vol.Optional(CONF_DURATION_MINUTES): number(15, 1440, 15, "min"),
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
        )

    def errors(self, step_id: str, user_input: dict[str, Any]) -> dict[str, str]:
        profile = str(user_input.get(CONF_PROFILE) or "")
        try:
            quarters = [float(p) for p in profile.replace(";", ",").split(",") if p.strip()]
        except ValueError:
            return {CONF_PROFILE: "profile"}
        if any(kw < 0 for kw in quarters):
            return {CONF_PROFILE: "profile"}
        if not quarters and not (
            user_input.get(CONF_POWER_KW) and user_input.get(CONF_DURATION_MINUTES)
        ):
            return {CONF_POWER_KW: "power_or_profile"}
        if quarters and user_input.get(CONF_BREAKABLE):
            return {CONF_BREAKABLE: "breakable_profile"}
        return {}


ASSET_FLOWS: dict[str, type[ConfigSubentryFlow]] = {
    SUBENTRY_BATTERY: BatterySubentryFlow,
    SUBENTRY_EV: EvSubentryFlow,
    SUBENTRY_HEAT_PUMP: HeatPumpSubentryFlow,
    SUBENTRY_APPLIANCE: ApplianceSubentryFlow,
    SUBENTRY_PV: PvSubentryFlow,
}
