"""A few figures per plan for job listings and the status page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plan_summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "status": plan["status"],
        "steps": len(plan["timestamps"]),
        "start": plan["start"],
        "resolution": plan["resolution"],
        "devices": sorted(plan["devices"]),
        "total_eur": plan["costs"]["total_eur"],
        "savings_eur": plan["costs"].get("savings_eur"),
        "currency": plan["costs"].get("currency", "EUR"),
        "net_power_kw": plan["site"]["net_power_kw"][:672],
    }
