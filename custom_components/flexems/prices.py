"""Price sources: a sensor's price-list attribute, the core Nord Pool integration, or a fixed price.

Every dynamic source becomes a list of `{start, end, value}` events per kWh (UTC times), the
form the add-on's site problem takes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from .errors import MissingInputError
from .states import usable_state

SOURCE_SENSOR: Final = "sensor"
SOURCE_NORDPOOL: Final = "nordpool"
SOURCE_FIXED: Final = "fixed"
SOURCE_SAME: Final = "same"  # production priced as consumption (FlexMeasures' default)
NORDPOOL_DOMAIN: Final = "nordpool"

_START_KEYS = ("start", "time", "startsAt", "start_time")
_VALUE_KEYS = ("value", "price", "total")

type PriceEvents = list[dict[str, Any]]


def price_events(hass: HomeAssistant, entity_id: str, attribute: str) -> PriceEvents:
    """Prices from a sensor attribute holding a list like Nord Pool's or ENTSO-e's.

    Each item has a start (`start`, `time`, `startsAt`), optionally an `end`, and a value
    (`value`, `price`, `total`) in the sensor's unit (per kWh or per MWh).
    """
    state = usable_state(hass, entity_id)
    items = state.attributes.get(attribute)
    if not isinstance(items, list) or not items:
        raise MissingInputError(entity_id, "no_price_list", attribute=attribute)
    unit = str(state.attributes.get("unit_of_measurement", "EUR/kWh")).replace(" ", "")
    return _events(entity_id, items, per_mwh=unit.lower().endswith("/mwh"))


async def nordpool_events(
    hass: HomeAssistant, entry_id: str, area: str | None, start: datetime, end: datetime
) -> PriceEvents:
    """Day-ahead prices from the core Nord Pool integration's `get_prices_for_date` action.

    Asks for each local day the plan touches; a day not yet published (tomorrow before the
    auction) answers an empty list and the plan stops where prices stop.
    """
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != NORDPOOL_DOMAIN:
        raise MissingInputError("Nord Pool", "not_set_up")
    events: PriceEvents = []
    for day in _local_days(start, end):
        try:
            response = await hass.services.async_call(
                NORDPOOL_DOMAIN,
                "get_prices_for_date",
                {"config_entry": entry_id, "date": day.isoformat(), **_areas(area)},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError as error:
            raise MissingInputError(entry.title, "prices_failed") from error
        areas = response or {}
        chosen = area.upper() if area else next(iter(areas), None)
        items = areas.get(chosen) if chosen else None
        if not isinstance(items, list):
            raise MissingInputError(entry.title, "no_prices_for_area", area=str(chosen))
        events += _events(entry.title, items, per_mwh=True)  # Nord Pool quotes per MWh
    if not events:
        raise MissingInputError(entry.title, "no_prices_today")
    return events


def with_markup(prices: PriceEvents | float, markup: float) -> PriceEvents | float:
    """Prices plus a fixed amount per kWh (taxes, grid fees, supplier margin)."""
    if not markup:
        return prices
    if isinstance(prices, float | int):
        return float(prices) + markup
    return [{**event, "value": event["value"] + markup} for event in prices]


def known_until(prices: PriceEvents | float) -> datetime | None:
    """The end of the last known price, or None for a fixed price."""
    if isinstance(prices, float | int):
        return None
    return max(datetime.fromisoformat(event["end"]) for event in prices)


def _events(source: str, items: list[Any], *, per_mwh: bool) -> PriceEvents:
    starts = [_first(item, _START_KEYS) for item in items]
    events = []
    for i, (item, start) in enumerate(zip(items, starts, strict=True)):
        if start is None:
            raise MissingInputError(source, "price_without_start", index=str(i))
        begin = dt_util.as_utc(_as_datetime(start))
        end_raw = item.get("end") or (starts[i + 1] if i + 1 < len(starts) else None)
        end = dt_util.as_utc(_as_datetime(end_raw)) if end_raw else begin + timedelta(hours=1)
        value = _first(item, _VALUE_KEYS)
        if value is None:
            raise MissingInputError(source, "price_without_value", index=str(i))
        try:
            number = float(value)
        except TypeError, ValueError:
            raise MissingInputError(
                source, "price_not_a_number", value=str(value), index=str(i)
            ) from None
        events.append(
            {
                "start": begin.isoformat(),
                "end": end.isoformat(),
                "value": number / (1000.0 if per_mwh else 1.0),
            }
        )
    return events


def _local_days(start: datetime, end: datetime) -> list[date]:
    first = dt_util.as_local(start).date()
    last = dt_util.as_local(end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _areas(area: str | None) -> dict[str, Any]:
    return {"areas": [area.upper()]} if area else {}


def _first(item: Any, keys: tuple[str, ...]) -> Any:
    if not isinstance(item, dict):
        return None
    return next((item[key] for key in keys if item.get(key) is not None), None)


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
