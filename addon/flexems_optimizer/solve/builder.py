"""Column/row allocation and sparse assembly: the one place that does index bookkeeping.

Blocks ask for ranges of columns and rows and add coefficient triplets as numpy arrays; `build`
turns them into one column-wise sparse matrix for a single `passModel` call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..problem.timegrid import FloatArray

IntArray = npt.NDArray[np.int64]
INF = np.inf


@dataclass(frozen=True)
class LinearProgram:
    """min cost·x  s.t.  row_lower ≤ A·x ≤ row_upper,  col_lower ≤ x ≤ col_upper (A column-wise)."""

    cost: FloatArray
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    a_start: npt.NDArray[np.int32]
    a_index: npt.NDArray[np.int32]
    a_value: FloatArray
    integer_columns: IntArray
    integer_steps: IntArray  # the time step each integer column decides (for local search)
    # What each integer column decides ("ev/charging"): an index into `decisions`. With the
    # step, it names a decision across plans of the same site (solve/choices.py).
    integer_decisions: IntArray
    decisions: tuple[str, ...]
    # A second objective among plans of least cost (charge sooner): zeros when there is none.
    tie_break: FloatArray | None = None

    @property
    def n_cols(self) -> int:
        return int(self.cost.size)

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.size)


@dataclass(frozen=True)
class PowerTerms:
    """A device's power per step as a sparse sum: power[steps[i]] += coefficients[i]·x[cols[i]].

    Consumption is positive. One column may feed several steps (a shiftable start feeds each
    step of its run).
    """

    steps: IntArray
    cols: IntArray
    coefficients: FloatArray

    @staticmethod
    def join(terms: list[PowerTerms]) -> PowerTerms:
        if not terms:
            empty = np.empty(0, dtype=np.int64)
            return PowerTerms(empty, empty, np.empty(0))
        return PowerTerms(
            np.concatenate([t.steps for t in terms]),
            np.concatenate([t.cols for t in terms]),
            np.concatenate([t.coefficients for t in terms]),
        )

    def per_step(self, x: FloatArray, n_steps: int) -> FloatArray:
        """The power per step for a solution x."""
        return np.bincount(
            self.steps, weights=self.coefficients * x[self.cols], minlength=n_steps
        ).astype(np.float64)


class ModelBuilder:
    """Collects columns, rows and coefficients as arrays; nothing per variable in Python."""

    def __init__(self) -> None:
        self._cols: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self._rows: list[tuple[FloatArray, FloatArray]] = []
        self._entries: list[tuple[IntArray, IntArray, FloatArray]] = []
        self._integers: list[IntArray] = []
        self._integer_steps: list[IntArray] = []
        self._integer_decisions: list[IntArray] = []
        self._decisions: dict[str, int] = {}
        self._extra_costs: list[tuple[IntArray, FloatArray]] = []
        self._tie_breaks: list[tuple[IntArray, FloatArray]] = []
        self.n_cols = 0
        self.n_rows = 0

    def columns(
        self,
        count: int,
        *,
        lower: float | FloatArray = 0.0,
        upper: float | FloatArray = INF,
        cost: float | FloatArray = 0.0,
        integer: bool = False,
        steps: IntArray | None = None,
        decides: str = "",
    ) -> IntArray:
        """Allocate `count` columns; returns their indices. Integer columns say which time
        step each decides (`steps`), so a search can free the decisions of a few hours, and
        what they decide (`decides`, e.g. "ev/charging"), so a later plan can start from them."""
        indices = np.arange(self.n_cols, self.n_cols + count, dtype=np.int64)
        self._cols.append(
            (
                np.broadcast_to(np.asarray(lower, dtype=np.float64), (count,)),
                np.broadcast_to(np.asarray(upper, dtype=np.float64), (count,)),
                np.broadcast_to(np.asarray(cost, dtype=np.float64), (count,)),
            )
        )
        if integer:
            if steps is None or steps.size != count:
                raise ValueError("integer columns need the time step of each")
            if not decides:
                raise ValueError("integer columns need to say what they decide")
            self._integers.append(indices)
            self._integer_steps.append(np.asarray(steps, dtype=np.int64))
            decision = self._decisions.setdefault(decides, len(self._decisions))
            self._integer_decisions.append(np.full(count, decision, dtype=np.int64))
        self.n_cols += count
        return indices

    def add_cost(self, cols: IntArray, values: FloatArray) -> None:
        """Add to the cost of existing columns (repeated columns add up)."""
        self._extra_costs.append((cols, np.asarray(values, dtype=np.float64)))

    def rows(
        self, count: int, *, lower: float | FloatArray = -INF, upper: float | FloatArray = INF
    ) -> IntArray:
        """Allocate `count` rows; returns their indices."""
        indices = np.arange(self.n_rows, self.n_rows + count, dtype=np.int64)
        self._rows.append(
            (
                np.broadcast_to(np.asarray(lower, dtype=np.float64), (count,)),
                np.broadcast_to(np.asarray(upper, dtype=np.float64), (count,)),
            )
        )
        self.n_rows += count
        return indices

    def coefficients(self, rows: IntArray, cols: IntArray, values: float | FloatArray) -> None:
        """Add A[rows[i], cols[i]] = values[i] (arrays of equal length, or a scalar value)."""
        rows_b, cols_b = np.broadcast_arrays(rows, cols)
        self._entries.append(
            (
                rows_b.ravel(),
                cols_b.ravel(),
                np.broadcast_to(np.asarray(values, dtype=np.float64), rows_b.shape).ravel(),
            )
        )

    def add_tie_break(self, cols: IntArray, weights: FloatArray) -> None:
        """A second objective, minimised among the plans of least cost (not traded against
        cost): e.g. charge sooner rather than later when prices tie."""
        self._tie_breaks.append((cols, np.asarray(weights, dtype=np.float64)))

    def build(self, cost_scale: float = 1.0) -> LinearProgram:
        """The assembled program, with every cost multiplied by `cost_scale`."""
        col_lower, col_upper, cost = (
            np.concatenate([c[k] for c in self._cols]) if self._cols else np.empty(0)
            for k in range(3)
        )
        row_lower, row_upper = (
            np.concatenate([r[k] for r in self._rows]) if self._rows else np.empty(0)
            for k in range(2)
        )
        if self._entries:
            rows = np.concatenate([e[0] for e in self._entries])
            cols = np.concatenate([e[1] for e in self._entries])
            values = np.concatenate([e[2] for e in self._entries])
        else:
            rows = cols = np.empty(0, dtype=np.int64)
            values = np.empty(0)
        if self._extra_costs:
            cost = cost.copy()
            for extra_cols, extra in self._extra_costs:
                np.add.at(cost, extra_cols, extra)
        order = np.argsort(cols, kind="stable")
        a_start = np.zeros(self.n_cols + 1, dtype=np.int32)
        np.cumsum(np.bincount(cols, minlength=self.n_cols), out=a_start[1:])
        integers, integer_steps, integer_decisions = (
            np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
            for parts in (self._integers, self._integer_steps, self._integer_decisions)
        )
        tie_break = None
        if self._tie_breaks:
            tie_break = np.zeros(self.n_cols)
            for tie_cols, weights in self._tie_breaks:
                np.add.at(tie_break, tie_cols, weights)
        return LinearProgram(
            cost=cost * cost_scale,
            col_lower=col_lower,
            col_upper=col_upper,
            row_lower=row_lower,
            row_upper=row_upper,
            a_start=a_start,
            a_index=rows[order].astype(np.int32),
            a_value=values[order],
            integer_columns=integers,
            integer_steps=integer_steps,
            integer_decisions=integer_decisions,
            decisions=tuple(self._decisions),
            tie_break=tie_break,
        )
