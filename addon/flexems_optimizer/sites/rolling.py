"""A site problem without a `start` rolls with the clock: each plan starts at the current step."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from ..problem.errors import ProblemError
from ..problem.timing import parse_duration

DEFAULT_RESOLUTION = "PT15M"


def is_rolling(problem: dict[str, Any]) -> bool:
    return "start" not in problem


def step_seconds(problem: dict[str, Any]) -> float:
    return parse_duration(
        problem.get("resolution", DEFAULT_RESOLUTION), "resolution"
    ).total_seconds()


def problem_at(problem: dict[str, Any], now: float) -> dict[str, Any]:
    """The problem to plan now: a rolling one gets the start of the step `now` is in."""
    if not is_rolling(problem):
        return problem
    if "end" in problem:
        raise ProblemError(
            "conflicting_fields",
            "a site without a 'start' plans from now on: give a 'duration', not an 'end'",
            "end",
        )
    step = step_seconds(problem)
    start = math.floor(now / step) * step
    return {**problem, "start": datetime.fromtimestamp(start, UTC).isoformat()}


def next_step_at(problem: dict[str, Any], now: float) -> float:
    """When the next step of a rolling site begins (epoch seconds)."""
    step = step_seconds(problem)
    return (math.floor(now / step) + 1) * step
