"""Small helpers to write site problems in tests as readably as the spec does."""

from __future__ import annotations

from typing import Any

START = "2026-06-01T00:00:00+00:00"


def hourly(values: list[float], unit: str | None = None, start: str = START) -> dict[str, Any]:
    series: dict[str, Any] = {"start": start, "resolution": "PT1H", "values": values}
    if unit:
        series["unit"] = unit
    return series


def problem(
    steps: int,
    *,
    prices: list[float] | float,
    devices: list[dict[str, Any]] | None = None,
    resolution: str = "PT1H",
    start: str = START,
    **context: Any,
) -> dict[str, Any]:
    """A problem of `steps` hourly steps; extra keyword arguments go into the flex-context."""
    flex_context: dict[str, Any] = {
        "consumption-price": hourly(prices, start=start) if isinstance(prices, list) else prices
    }
    flex_context.update({key.replace("_", "-"): value for key, value in context.items()})
    return {
        "start": start,
        "duration": f"PT{steps}H" if resolution == "PT1H" else None,
        "resolution": resolution,
        "flex-context": flex_context,
        "flex-model": devices or [],
    }


def battery(name: str = "battery", **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "type": "storage"}
    entry.update({key.replace("_", "-"): value for key, value in fields.items()})
    return entry
