"""Say in words why a problem cannot be met, from the breaches of its all-soft version."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..problem.timegrid import TimeGrid
from .accounting import Breach

_RAISING = {
    "soc-min",
    "soc-minima",
    "soc-targets",
    "temperature-min",
    "comfort-min",
    "temperature-targets",
}


def reasons(breaches: list[Breach], grid: TimeGrid) -> list[dict[str, Any]]:
    """One reason per constraint and device: its first breach, and how many steps breach it."""
    grouped: dict[tuple[str, str | None, bool], list[Breach]] = defaultdict(list)
    for breach in breaches:
        grouped[(breach.constraint, breach.device, breach.value < breach.limit)].append(breach)
    found = []
    for (constraint, device, below), group in grouped.items():
        first = group[0]
        is_state = first.is_state
        at = grid.iso_at_boundary(first.state_or_step + (1 if is_state else 0))
        found.append(
            {
                "constraint": constraint,
                "device": device,
                "at": at,
                "count": len(group),
                "limit": round(first.limit, 6),
                "possible": round(first.value, 6),
                "unit": first.unit,
                "message": _message(first, constraint, device, below, at, len(group)),
            }
        )
    return found


def _message(
    breach: Breach, constraint: str, device: str | None, below: bool, at: str, count: int
) -> str:
    name = constraint.removesuffix("s") if constraint.endswith("-targets") else constraint
    limit, value = f"{breach.limit:.6g}", f"{breach.value:.6g}"
    unit = "°C" if breach.unit == "K" else breach.unit
    what = "the temperature" if breach.unit == "K" else "the stock"
    where = f" for {device}" if device else ""
    more = f" (and {count - 1} more step{'s' if count > 2 else ''})" if count > 1 else ""
    if breach.is_state and below and constraint in _RAISING:
        text = f"{name} {limit} {unit} at {at}{where} unreachable: at most {value} {unit} possible"
    elif breach.is_state:
        text = (
            f"{name} {limit} {unit} at {at}{where} cannot be kept: {what} stays at {value} {unit}"
        )
    else:
        text = f"{name} {limit} kW exceeded at {at}{where}: {value} kW needed"
    return text + more
