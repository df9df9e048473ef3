"""Constants of the flexems integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

DOMAIN: Final = "flexems"
LOGGER = logging.getLogger(__package__)

CONF_URL: Final = "url"
CONF_TOKEN: Final = "token"
# Options: how and when to plan.
CONF_INTERVAL_MINUTES: Final = "interval_minutes"
CONF_HORIZON_HOURS: Final = "horizon_hours"
CONF_RESOLUTION_MINUTES: Final = "resolution_minutes"
CONF_RELAX: Final = "relax_constraints"
# Options: the site.
CONF_PRICE_ENTITY: Final = "price_entity"
CONF_PRICE_ATTRIBUTE: Final = "price_attribute"
CONF_FIXED_PRICE: Final = "fixed_price"
CONF_GRID_LIMIT_KW: Final = "grid_limit_kw"
# Subentry: a battery.
SUBENTRY_BATTERY: Final = "battery"
CONF_SOC_ENTITY: Final = "soc_entity"
CONF_CAPACITY_KWH: Final = "capacity_kwh"
CONF_POWER_KW: Final = "power_kw"
CONF_EFFICIENCY: Final = "roundtrip_efficiency"
CONF_CONTROL_ENTITY: Final = "control_entity"
# Subentry: an EV.
SUBENTRY_EV: Final = "ev"
CONF_PLUGGED_ENTITY: Final = "plugged_in_entity"
CONF_ASSUMED_SOC: Final = "assumed_soc"
CONF_TARGET_SOC: Final = "target_soc"
CONF_DEPARTURE: Final = "departure"
DEFAULT_TARGET_SOC: Final = 80
DEFAULT_DEPARTURE: Final = "07:00:00"
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

DEFAULT_PORT: Final = 8099
DEFAULT_INTERVAL = timedelta(minutes=15)
DEFAULT_HORIZON_HOURS: Final = 24
DEFAULT_RESOLUTION_MINUTES: Final = 15
DEFAULT_FIXED_PRICE: Final = 0.30
