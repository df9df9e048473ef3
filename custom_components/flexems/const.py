"""Constants of the flexems integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "flexems"
LOGGER = logging.getLogger(__package__)

CONF_URL: Final = "url"
CONF_TOKEN: Final = "token"
# Options: how and when to plan.
CONF_STALE_ISSUE_MINUTES: Final = "stale_issue_minutes"  # no plan this long: a repair issue
CONF_HORIZON_HOURS: Final = "horizon_hours"
CONF_RESOLUTION_MINUTES: Final = "resolution_minutes"
CONF_RELAX: Final = "relax_constraints"
# Options: the site.
CONF_PRICE_SOURCE: Final = "price_source"  # sensor, nordpool or fixed
CONF_PRICE_ENTITY: Final = "price_entity"
CONF_PRICE_ATTRIBUTE: Final = "price_attribute"
CONF_FIXED_PRICE: Final = "fixed_price"
CONF_PRICE_MARKUP: Final = "price_markup"
CONF_NORDPOOL_ENTRY: Final = "nordpool_entry"
CONF_NORDPOOL_AREA: Final = "nordpool_area"
CONF_PRODUCTION_SOURCE: Final = "production_price_source"  # same, sensor, nordpool or fixed
CONF_PRODUCTION_ENTITY: Final = "production_price_entity"
CONF_PRODUCTION_ATTRIBUTE: Final = "production_price_attribute"
CONF_PRODUCTION_FIXED: Final = "production_fixed_price"
CONF_GRID_LIMIT_KW: Final = "grid_limit_kw"
CONF_PEAK_PRICE: Final = "peak_price"  # per kW of the horizon's highest import
# Options: forecasts.
CONF_LOAD_ENTITY: Final = "load_entity"
CONF_LOAD_EXCLUDED: Final = "load_excluded_entities"
CONF_LOAD_WEEKS: Final = "load_weeks"
DEFAULT_LOAD_WEEKS: Final = 4
# Subentry: a battery.
SUBENTRY_BATTERY: Final = "battery"
CONF_SOC_ENTITY: Final = "soc_entity"
CONF_CAPACITY_KWH: Final = "capacity_kwh"
CONF_POWER_KW: Final = "power_kw"
CONF_EFFICIENCY: Final = "roundtrip_efficiency"
CONF_CONTROL_ENTITY: Final = "control_entity"
CONF_RESERVE_SOC: Final = "reserve_soc"  # %: kept for outages, never planned below
CONF_END_SOC: Final = "end_soc"  # %: at least this at the horizon's end (none: as it started)
DEFAULT_RESERVE_SOC: Final = 10
# Subentry: an EV.
SUBENTRY_EV: Final = "ev"
CONF_PLUGGED_ENTITY: Final = "plugged_in_entity"
CONF_ASSUMED_SOC: Final = "assumed_soc"
CONF_TARGET_SOC: Final = "target_soc"
CONF_DEPARTURE: Final = "departure"
DEFAULT_TARGET_SOC: Final = 80
DEFAULT_DEPARTURE: Final = "07:00:00"
DEFAULT_EV_MIN_POWER_KW: Final = 1.4  # 6 A on one phase at 230 V: no charger goes lower
# Subentry: a heat pump heating a building.
SUBENTRY_HEAT_PUMP: Final = "heat_pump"
CONF_INDOOR_ENTITY: Final = "indoor_temperature_entity"
CONF_OUTDOOR_ENTITY: Final = "outdoor_temperature_entity"
CONF_HEAT_CAPACITY: Final = "heat_capacity_kwh_per_k"
CONF_HEAT_LOSS: Final = "heat_loss_kw_per_k"
CONF_COMFORT_MIN: Final = "comfort_min"
CONF_COMFORT_MAX: Final = "comfort_max"
CONF_COP: Final = "cop"
CONF_MIN_POWER_KW: Final = "min_power_kw"
# A heat pump that starts and stops: its compressor's shortest run and rest, in minutes.
CONF_MIN_RUN_MINUTES: Final = "min_run_minutes"
CONF_MIN_OFF_MINUTES: Final = "min_off_minutes"
CONF_WEATHER_ENTITY: Final = "weather_entity"
CONF_HEATS: Final = "heats"  # building or buffer
HEATS_BUILDING: Final = "building"
HEATS_BUFFER: Final = "buffer"
# A heat pump heating a hot-water buffer.
CONF_TANK_ENTITY: Final = "tank_temperature_entity"
CONF_TANK_LITRES: Final = "tank_litres"
CONF_TANK_MIN: Final = "tank_min"
CONF_TANK_MAX: Final = "tank_max"
CONF_TANK_TARGET: Final = "tank_target"
CONF_TANK_TARGET_TIME: Final = "tank_target_time"
CONF_TANK_LOSS_W_PER_K: Final = "tank_loss_w_per_k"
CONF_HOT_WATER_KWH_PER_DAY: Final = "hot_water_kwh_per_day"
# Subentry: PV.
SUBENTRY_PV: Final = "pv"
CONF_FORECAST_ENTRIES: Final = "forecast_entries"
# Subentry: a shiftable appliance.
SUBENTRY_APPLIANCE: Final = "appliance"
CONF_DURATION_MINUTES: Final = "duration_minutes"
CONF_PROFILE: Final = "profile_kw"  # kW per 15 minutes, comma-separated
CONF_EARLIEST_START: Final = "earliest_start"
CONF_DEADLINE: Final = "deadline"
CONF_BREAKABLE: Final = "breakable"
# Control entities: how a plan is applied.
CONF_SETPOINT_SIGN: Final = "setpoint_sign"
SIGN_CONSUMPTION_POSITIVE: Final = "consumption_positive"
SIGN_PRODUCTION_POSITIVE: Final = "production_positive"
CONF_CHARGE_OPTION: Final = "charge_option"
CONF_DISCHARGE_OPTION: Final = "discharge_option"
CONF_IDLE_OPTION: Final = "idle_option"
# What an applied asset does when there is no current plan (after holding the last planned
# value until its step ends): idle, stay as it is, or go back to the device's own control.
CONF_FALLBACK: Final = "fallback"
FALLBACK_IDLE: Final = "idle"
FALLBACK_LEAVE: Final = "leave"
FALLBACK_OWN: Final = "own_control"
FALLBACKS: Final = (FALLBACK_IDLE, FALLBACK_LEAVE, FALLBACK_OWN)

DEFAULT_PORT: Final = 8099
DEFAULT_STALE_ISSUE_MINUTES: Final = 15
DEFAULT_HORIZON_HOURS: Final = 24
DEFAULT_RESOLUTION_MINUTES: Final = 15
DEFAULT_FIXED_PRICE: Final = 0.30
