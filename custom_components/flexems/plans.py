"""Reading a plan from the add-on: which step is now, when it ends, and a series as the
schedule the plan card draws."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def step_now(plan: dict[str, Any], now: datetime) -> int | None:
    """Index of the plan's step that contains `now`, or None outside the plan."""
    starts = [datetime.fromisoformat(t) for t in plan["timestamps"]]
    end = datetime.fromisoformat(plan["end"])
    if not starts or now < starts[0] or now >= end:
        return None
    return max(i for i, start in enumerate(starts) if start <= now)


def step_end(plan: dict[str, Any], index: int) -> datetime:
    """When the plan's step `index` ends."""
    ends = [*plan["timestamps"][1:], plan["end"]]
    return datetime.fromisoformat(ends[index])


MAX_SCHEDULE_ITEMS = 160


def schedule(plan: dict[str, Any], values: list[float]) -> list[dict[str, Any]]:
    """[{start, end, value}] for charts, like Nord Pool's raw_today: steps with the same value
    in a row are one interval; the first MAX_SCHEDULE_ITEMS intervals."""
    ends = [*plan["timestamps"][1:], plan["end"]]
    items: list[dict[str, Any]] = []
    for start, end, value in zip(plan["timestamps"], ends, values, strict=True):
        if items and items[-1]["value"] == value:
            items[-1]["end"] = end
        elif len(items) == MAX_SCHEDULE_ITEMS:
            break
        else:
            items.append({"start": start, "end": end, "value": value})
    return items
