"""Reading a plan from the add-on: which step is now, and when it ends."""

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
