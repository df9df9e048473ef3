"""A MILP's LP with its integers fixed, solved on HiGHS' hot basis: how the warm start prices a
rounding, the window search a window's choices, and an answer gets its duals. With the model
passed once, each of these is a bound change and a few dual simplex iterations (milliseconds),
where building and passing the LP again would cost more than solving it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np

from ..problem.timegrid import FloatArray

Columns = np.ndarray[tuple[int], np.dtype[np.int32]]


@dataclass(frozen=True)
class FixedPlan:
    x: FloatArray
    objective: float
    # The integer columns' reduced costs: a subgradient of the plan's cost as a function of
    # its integers' values (solve/polish.py bounds a window's gain with them).
    reduced: FloatArray


def fix(highs: highspy.Highs, columns: Columns, values: FloatArray) -> None:
    """The integer `columns` held at `values` (one per column, rounded to whole numbers)."""
    fixed = np.round(values)
    highs.changeColsBounds(columns.size, columns, fixed, fixed)


def solve_fixed(
    highs: highspy.Highs, columns: Columns, values: FloatArray, below: float = np.inf
) -> FixedPlan | None:
    """The plan with the integer `columns` at `values`; None when those cannot be kept or the
    plan costs `below` or more (then its solution is not read). HiGHS must be in LP mode
    (polish.lp_mode) with its time limit set."""
    fix(highs, columns, values)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    objective = float(highs.getObjectiveValue())
    if objective >= below:
        return None
    solution = highs.getSolution()
    reduced = np.asarray(solution.col_dual)[columns]
    return FixedPlan(np.asarray(solution.col_value), objective, reduced)


def free(highs: highspy.Highs, columns: Columns, lower: FloatArray, upper: FloatArray) -> None:
    """The integer `columns` back to their bounds."""
    highs.changeColsBounds(columns.size, columns, lower, upper)


@contextmanager
def freed_after(
    highs: highspy.Highs, columns: Columns, lower: FloatArray, upper: FloatArray
) -> Iterator[None]:
    """Whatever the block fixes, the integer `columns` leave it at their bounds."""
    try:
        yield
    finally:
        free(highs, columns, lower, upper)
