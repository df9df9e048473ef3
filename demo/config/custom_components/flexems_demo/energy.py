"""The demo's PV forecast, as the energy dashboard (and flexems) read solar forecasts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .home import pv_kw


async def async_get_solar_forecast(hass: HomeAssistant, config_entry_id: str) -> dict[str, Any]:
    start = dt_util.now().replace(minute=0, second=0, microsecond=0)
    hours = [start + timedelta(hours=h) for h in range(48)]
    return {"wh_hours": {moment.isoformat(): round(1000 * pv_kw(moment), 1) for moment in hours}}
