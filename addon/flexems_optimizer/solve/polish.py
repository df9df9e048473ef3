"""A quick local search for a home's MILP, between the warm start and HiGHS' own search.

Homes pose their hard decisions along time (a heat pump's on/off, an EV's charging blocks, a
battery's direction), and a better plan usually differs from the warm start in a few hours
only. So, window by window (WINDOW_STEPS steps, every STRIDE_STEPS), the integers outside the
window stay as they are and those inside are relaxed: the LP says what those hours would do,
the model's own rounding turns that into choices, and the LP with every integer fixed prices
the result. A cheaper plan is kept; passes repeat until one finds nothing or time is up.

Each window costs two LPs on HiGHS' hot basis (milliseconds), where a sub-MIP costs HiGHS
100-400 ms of root work even with a dozen free binaries. A window that cannot make the plan
cheaper is not tried at all: the plan's cost as a function of its integers' values (the rest
optimal) is convex, and the reduced costs of the LP with every integer fixed are a subgradient
of it, so they bound what freeing a window's integers can gain (_window_gains). That skips a
third of the windows of a 96-192-step hard home and a fifth at 672 steps, and the search finds
the same plans (those windows' relaxed LPs could not have gained). When a window could on its
own bring the plan within the gap of the bound (proven: the search ends), those windows go first.

Measured (bench/hard_homes.py): HiGHS in 1 s does not improve on the warm start of these homes,
and in 10 s not at 672 steps; this search closes a good part of the way in 0.1-0.5 s at 96-192
steps and does better than 10 s of HiGHS at 672 steps. It is a local search: where HiGHS'
sub-MIPs get far with time (the coupled home of 672 steps after 3-10 s), its own end is worse,
so it gets a bounded share of the search (SolverSettings.polish_limit_s) before HiGHS goes on
from its plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import highspy
import numpy as np

from ..problem.timegrid import FloatArray
from .builder import LinearProgram
from .fixed_lp import Columns, FixedPlan, freed_after, solve_fixed

WINDOW_STEPS = 8  # measured against 4, 16 and 32: the best plan per second at 96-672 steps
STRIDE_STEPS = 4
_BETTER = 1e-7  # relative: a plan this much cheaper is kept (no churn on rounding noise)
_ROUNDED = 1e-6  # an integer this far from its relaxed value was rounded


@dataclass(frozen=True)
class Polished:
    x: FloatArray
    objective: float
    windows: int  # windows tried
    improvements: int


@contextmanager
def lp_mode(highs: highspy.Highs, *, presolve: bool = False) -> Iterator[None]:
    """HiGHS solving a MIP's LP relaxation (and LPs with its integers fixed), then back to the
    MIP with presolve as HiGHS chooses."""
    highs.setOptionValue("solve_relaxation", True)
    highs.setOptionValue("presolve", "on" if presolve else "off")
    try:
        yield
    finally:
        highs.setOptionValue("solve_relaxation", False)
        highs.setOptionValue("presolve", "choose")


def polish(
    highs: highspy.Highs,
    model: LinearProgram,
    x: FloatArray,
    objective: float,
    round_integers: Callable[[FloatArray], FloatArray],
    limit_s: float,
    good_enough: float = -np.inf,
    relaxed: FloatArray | None = None,
    reduced: FloatArray | None = None,
    stop: Callable[[], bool] | None = None,
) -> Polished:
    """Improve a feasible plan `x` (of `objective`) window by window for at most `limit_s`,
    or until its objective is at most `good_enough` (within the gap of a known bound: no plan
    can be better by more). `relaxed`: the LP relaxation's integer values `x` was rounded from,
    if known; `reduced`: the integers' reduced costs in x's LP (fixed_lp.FixedPlan), if known
    (else that LP is solved again for them); `stop`: asked before each window, ends the
    search when it says True. `highs` holds the model and is left as it came: integers back to
    their bounds, LP mode off.
    """
    started = time.perf_counter()
    columns = model.integer_columns.astype(np.int32)
    steps = model.integer_steps
    lower = model.col_lower[columns]
    upper = model.col_upper[columns]
    integers = (columns, lower, upper)
    chosen = np.round(x[columns])
    windows = improvements = 0
    starts = np.arange(0, int(steps.max(initial=-1)) + 1, STRIDE_STEPS)
    if starts.size == 0:
        return Polished(x, objective, windows, improvements)
    # Each LP hot-starts from the last basis: no presolve.
    with lp_mode(highs), freed_after(highs, columns, lower, upper):
        if reduced is None:
            own = solve_fixed(highs, columns, chosen)
            if own is None:  # the plan's own LP did not solve: nothing to go by
                return Polished(x, objective, windows, improvements)
            reduced = own.reduced
        gains = _window_gains(steps, starts, reduced, chosen, integers)
        improved = objective > good_enough
        # Until a better plan is found, only the windows where rounding changed the relaxation's
        # choices are tried (each window costs about a millisecond of HiGHS' set-up even when it
        # finds nothing: 5 of a 96-step home's 55 ms); after it, or a pass that found nothing,
        # every window.
        rounded = None if relaxed is None else np.abs(relaxed - chosen) > _ROUNDED
        while improved:
            improved = False
            for index in _pass_order(gains, objective - good_enough):
                start = int(starts[index])
                if time.perf_counter() - started > limit_s or (stop is not None and stop()):
                    return Polished(x, objective, windows, improvements)
                free = (steps >= start) & (steps < start + WINDOW_STEPS)
                if not free.any() or (rounded is not None and not rounded[free].any()):
                    continue
                # A window that cannot make the plan cheaper by _BETTER is not tried (its
                # relaxed LP could not pass _try_window's first test).
                if gains[index] <= _BETTER * max(abs(objective), 1.0):
                    continue
                windows += 1
                found = _try_window(highs, model, free, chosen, integers, objective, round_integers)
                if found is not None:
                    x, objective, reduced = found.x, found.objective, found.reduced
                    chosen = np.round(x[columns])
                    gains = _window_gains(steps, starts, reduced, chosen, integers)
                    improvements += 1
                    improved = True
                    rounded = None
                    if objective <= good_enough:
                        return Polished(x, objective, windows, improvements)
            if rounded is not None:  # nothing found where rounding acted: every window once
                rounded, improved = None, True
    return Polished(x, objective, windows, improvements)


def _pass_order(gains: FloatArray, reach: float) -> list[int]:
    """The windows of a pass in time order (a better plan in one window often opens the next),
    except that those that could bring the plan within `reach` on their own (within the gap of
    the bound: proven) go first, the most promising first."""
    could_prove = np.flatnonzero(gains >= reach)
    ahead: list[int] = could_prove[np.argsort(-gains[could_prove], kind="stable")].tolist()
    return ahead + [index for index in range(gains.size) if gains[index] < reach]


def _window_gains(
    steps: np.ndarray[tuple[int], np.dtype[np.int64]],
    starts: np.ndarray[tuple[int], np.dtype[np.int64]],
    reduced: FloatArray,
    chosen: FloatArray,
    integers: tuple[Columns, FloatArray, FloatArray],
) -> FloatArray:
    """Per window, the most that freeing its integers can make the plan cheaper. The plan's
    cost as a function of its integers' values (the rest optimal) is convex, and the fixed
    LP's reduced costs are a subgradient of it: moving integer j from its value by at most its
    range gains at most |reduced_j| times that range, and only where the sign lets it (down
    from its upper bound with a positive reduced cost, up from its lower with a negative)."""
    _, lower, upper = integers
    up = np.where(reduced < 0, upper - chosen, 0.0)
    down = np.where(reduced > 0, chosen - lower, 0.0)
    gain = np.abs(reduced) * (up + down)
    per_step = np.bincount(steps, weights=gain, minlength=int(starts[-1]) + WINDOW_STEPS)
    running = np.concatenate(([0.0], np.cumsum(per_step)))
    return np.asarray(running[starts + WINDOW_STEPS] - running[starts], dtype=np.float64)


def _try_window(
    highs: highspy.Highs,
    model: LinearProgram,
    free: np.ndarray[tuple[int], np.dtype[np.bool_]],
    chosen: FloatArray,
    integers: tuple[Columns, FloatArray, FloatArray],
    objective: float,
    round_integers: Callable[[FloatArray], FloatArray],
) -> FixedPlan | None:
    """The plan with this window's integers re-chosen, when it is cheaper than `objective`;
    None when the window cannot do better or its rounding is infeasible. `integers`: the
    integer columns and their bounds."""
    columns, lower, upper = integers
    better = objective - _BETTER * max(abs(objective), 1.0)
    highs.changeColsBounds(
        columns.size, columns, np.where(free, lower, chosen), np.where(free, upper, chosen)
    )
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    if highs.getObjectiveValue() >= better:
        return None  # even free, these hours cannot make the plan cheaper
    relaxed = np.asarray(highs.getSolution().col_value)
    candidate = np.where(free, np.round(round_integers(relaxed)), chosen)
    if np.array_equal(candidate, chosen):
        return None  # the same choices: the same plan
    return solve_fixed(highs, columns, candidate, below=better)
