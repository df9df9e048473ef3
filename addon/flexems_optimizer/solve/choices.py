"""A plan's on/off decisions named by what they decide and when, so that the next plan of the
same site can start from them. A rolling site is planned again at every step and on every
change; the search for a hard home's plan then goes on from the best plan found so far instead
of starting over from the LP relaxation, and a tie keeps the earlier plan's choices.

Decisions are matched by name ("ev/charging", from `ModelBuilder.columns(decides=...)`) and by
the time their step starts, so a plan shifted by a few steps still finds its earlier choices;
steps the earlier plan did not cover are left to the relaxation's rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..problem.timegrid import FloatArray, TimeGrid
from .builder import LinearProgram


@dataclass(frozen=True)
class Choices:
    step_ms: int
    # decision name -> (start of each decided step in epoch milliseconds, its value)
    decisions: Mapping[str, tuple[list[int], list[int]]]

    def as_json(self) -> dict[str, Any]:
        return {
            "step_ms": self.step_ms,
            "decisions": {name: [at, value] for name, (at, value) in self.decisions.items()},
        }

    @staticmethod
    def from_json(data: Any) -> Choices | None:
        """What `as_json` wrote; None for anything else (a start is only ever a hint)."""
        try:
            step_ms = int(data["step_ms"])
            decisions = {
                str(name): ([int(t) for t in at], [round(float(v)) for v in value])
                for name, (at, value) in data["decisions"].items()
            }
        except KeyError, TypeError, ValueError, AttributeError:
            return None
        if any(len(at) != len(value) for at, value in decisions.values()):
            return None
        return Choices(step_ms, decisions)


def choices_of(model: LinearProgram, x: FloatArray, grid: TimeGrid) -> Choices:
    """The integer decisions of the solution `x` of `model`, planned on `grid`."""
    starts_ms = _starts_ms(grid)
    values = np.round(x[model.integer_columns]).astype(np.int64)
    decisions = {}
    for index, name in enumerate(model.decisions):
        mine = model.integer_decisions == index
        decisions[name] = (
            starts_ms[model.integer_steps[mine]].tolist(),
            values[mine].tolist(),
        )
    return Choices(_step_ms(grid), decisions)


def hint(model: LinearProgram, choices: Choices, grid: TimeGrid) -> FloatArray:
    """Per integer column of `model` (on `grid`), the value `choices` had for the same decision
    at the same time; NaN where they do not say (another step length: all NaN)."""
    wanted = np.full(model.integer_columns.size, np.nan)
    if choices.step_ms != _step_ms(grid):
        return wanted
    starts_ms = _starts_ms(grid)
    for index, name in enumerate(model.decisions):
        known = choices.decisions.get(name)
        if known is None or not known[0]:
            continue
        mine = np.flatnonzero(model.integer_decisions == index)
        at = np.asarray(known[0], dtype=np.int64)
        order = np.argsort(at)
        at, value = at[order], np.asarray(known[1], dtype=np.float64)[order]
        times = starts_ms[model.integer_steps[mine]]
        found = np.clip(np.searchsorted(at, times), 0, at.size - 1)
        same = at[found] == times
        wanted[mine[same]] = value[found[same]]
    return wanted


def holding_first_step(model: LinearProgram, start: FloatArray) -> LinearProgram:
    """`model` with the integers of its first step held at `start` (a hint, NaN where it says
    nothing): a plan searched after one already carried out keeps what that one does now, so a
    switch it turned on is not turned off seconds later (a heat pump's compressor)."""
    held = (model.integer_steps == 0) & ~np.isnan(start)
    if not held.any():
        return model
    columns = model.integer_columns[held]
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    lower[columns] = upper[columns] = np.round(start[held])
    return replace(model, col_lower=lower, col_upper=upper)


def _starts_ms(grid: TimeGrid) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.round(grid.boundaries_s[:-1] * 1000.0).astype(np.int64)


def _step_ms(grid: TimeGrid) -> int:
    return round(grid.step.total_seconds() * 1000.0)
