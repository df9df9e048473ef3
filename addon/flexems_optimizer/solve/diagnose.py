"""Say in words why a problem cannot be met (from the breaches of its all-soft version), and which
rule keeps a missed target from being met."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..problem.model import HeatPump, RunRules, SiteProblem, Storage
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


def blocked_starts(problem: SiteProblem, breaches: list[Breach]) -> list[str]:
    """Why a stock or temperature stays too low, when the reason is a rule: every on/off device
    that could raise it (a charger with a minimum power, the heat pumps of a heat sink) is off
    and may not start ("hp: a target needs it to run, max-starts is 0")."""
    short = {
        b.device for b in breaches if b.is_state and b.value < b.limit and b.constraint in _RAISING
    }
    causes = []
    for device in problem.devices:
        if not isinstance(device, Storage) or device.name not in short:
            continue
        raisers: list[tuple[str, RunRules]] = [
            (p.name, p.run_rules)
            for p in problem.devices
            if isinstance(p, HeatPump) and p.heats == device.name
        ]
        if device.min_charging_kw is not None:
            raisers.append((device.name, device.run_rules))
        blocked = [(name, _no_start_allowed(rules)) for name, rules in raisers]
        if blocked and all(rule for _, rule in blocked):
            causes += [f"{name}: a target needs it to run, {rule} is 0" for name, rule in blocked]
    return causes


def _no_start_allowed(rules: RunRules) -> str | None:
    """The rule that keeps an on/off device that is off from ever starting, if one does."""
    if rules.initial_on:
        return None
    if rules.max_starts == 0:
        return "max-starts"
    if rules.max_starts_per_day == 0:
        return "max-starts-per-day"
    return None


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
