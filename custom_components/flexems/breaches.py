"""What a relaxed or infeasible plan could not keep: a summary per asset and constraint for the
"Constraint breaches" sensor, and a repair issue for each that names the asset, the constraint
and by how much (in the asset's own terms: % of a battery's or an EV's capacity, °C)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import (
    CONF_CAPACITY_KWH,
    CONF_HEATS,
    DOMAIN,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
)
from .problem import heat_sink_name

ISSUE_PREFIX: Final = "breach_"
# The optimizer's constraint names, by what a breach of them means.
TARGETS: Final = {"soc-targets", "temperature-targets"}
MINIMA: Final = {"soc-min", "soc-minima", "temperature-min", "comfort-min"}
MAXIMA: Final = {"soc-max", "soc-maxima", "temperature-max", "comfort-max"}
POWER_LIMITS: Final = {"consumption-capacity", "production-capacity"}


@dataclass(frozen=True)
class BreachSummary:
    """One constraint of one asset (None: the site's connection) that the plan breaches: when
    first, and the worst breach (the limit, the planned value, the unit)."""

    asset: str | None
    constraint: str
    first_at: datetime
    worst_at: datetime
    limit: float
    value: float
    unit: str
    steps: int

    @property
    def shows(self) -> bool:
        """Does the breach show at the precision it is told in (0.1 °C, %, kW)? One that rounds
        to its limit (an unfinished plan's 0.04 °C at the horizon's end) asks nothing of anyone."""
        return self.value != self.limit

    @property
    def issue_id(self) -> str:
        return f"{ISSUE_PREFIX}{self.asset or 'site'}_{self.constraint}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "constraint": self.constraint,
            "first_at": self.first_at.isoformat(),
            "worst_at": self.worst_at.isoformat(),
            "limit": self.limit,
            "value": self.value,
            "unit": self.unit,
            "steps": self.steps,
        }


def summarize(
    plan: dict[str, Any],
    capacities: dict[str, float],
    evs: frozenset[str] = frozenset(),
    buffers: frozenset[str] = frozenset(),
) -> list[BreachSummary]:
    """The plan's breaches, one per asset and constraint. `capacities` (kWh, by asset name)
    turns a battery's or an EV's kWh into % of its capacity; an EV's soc-minima is its
    departure target ("at least 80 % at 07:00") and a hot-water buffer's comfort-min its
    target temperature ("at least 55 °C at 07:00"): both are named as targets."""
    groups: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
    for breach in plan.get("breaches") or []:
        groups.setdefault((breach.get("device"), breach["constraint"]), []).append(breach)
    summaries = []
    for (asset, key), found in groups.items():
        worst = max(found, key=lambda b: b["amount"])
        limit, value, unit = worst["limit"], worst["value"], worst["unit"]
        if unit == "kWh" and asset in capacities and capacities[asset] > 0:
            limit, value, unit = (
                limit / capacities[asset] * 100,
                value / capacities[asset] * 100,
                "%",
            )
        elif unit == "K":
            unit = "°C"  # a heat sink's states are temperatures
        constraint = key
        if asset in evs and key == "soc-minima":
            constraint = "soc-targets"
        elif asset in buffers and key == "comfort-min":
            constraint = "temperature-targets"
        summaries.append(
            BreachSummary(
                asset=asset,
                constraint=constraint,
                first_at=datetime.fromisoformat(found[0]["at"]),
                worst_at=datetime.fromisoformat(worst["at"]),
                limit=round(limit, 1),
                value=round(value, 1),
                unit=unit,
                steps=len(found),
            )
        )
    return summaries


def evs(entry: ConfigEntry) -> frozenset[str]:
    """The EVs' names: their soc-minima are their departure targets."""
    return frozenset(
        subentry.title
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_EV
    )


def buffers(entry: ConfigEntry) -> frozenset[str]:
    """The hot-water buffers' names: their comfort-min is their target temperature."""
    return frozenset(
        heat_sink_name(subentry.title, subentry.data)
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_HEAT_PUMP
        and subentry.data.get(CONF_HEATS) == "buffer"
    )


def capacities(entry: ConfigEntry) -> dict[str, float]:
    """Batteries' and EVs' capacities (kWh) by asset name."""
    return {
        subentry.title: float(subentry.data[CONF_CAPACITY_KWH])
        for subentry in entry.subentries.values()
        if subentry.subentry_type in (SUBENTRY_BATTERY, SUBENTRY_EV)
    }


def _translation_key(summary: BreachSummary) -> str:
    if summary.asset is None:
        return "breach_site"
    if summary.constraint in TARGETS:
        return "breach_target"
    if summary.constraint in MINIMA:
        return "breach_minimum"
    if summary.constraint in MAXIMA:
        return "breach_maximum"
    if summary.constraint in POWER_LIMITS:
        return "breach_power"
    return "breach_other"


def summarize_for(entry: ConfigEntry, plan: dict[str, Any]) -> list[BreachSummary]:
    """The plan's breaches in the terms of the entry's assets."""
    return summarize(plan, capacities(entry), evs(entry), buffers(entry))


@callback
def async_update_issues(hass: HomeAssistant, summaries: list[BreachSummary]) -> None:
    """A repair issue per breach of a relaxed or infeasible plan that shows at the precision it
    is told in; those gone (or grown too small to show) are cleared."""
    current = {s.issue_id: s for s in summaries if s.shows}
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN and issue_id.startswith(ISSUE_PREFIX) and issue_id not in current:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    for issue_id, summary in current.items():
        at = summary.worst_at if summary.constraint not in TARGETS else summary.first_at
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=_translation_key(summary),
            translation_placeholders={
                "asset": summary.asset or "",
                "constraint": summary.constraint,
                "at": dt_util.as_local(at).strftime("%Y-%m-%d %H:%M"),
                "limit": f"{summary.limit:g}",
                "value": f"{summary.value:g}",
                "unit": summary.unit,
                "steps": str(summary.steps),
            },
        )
