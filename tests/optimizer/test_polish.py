"""The window search between the warm start and HiGHS' search (solve/polish.py): it only ever
keeps a cheaper plan that holds every constraint, leaves HiGHS' model as it found it, and makes
the plans of hard homes cheaper than the warm start."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import highspy
import numpy as np
import pytest
import scipy.sparse

from flexems_optimizer import schedule
from flexems_optimizer.problem.parse import parse_problem
from flexems_optimizer.samples import coupled_site, hard_home
from flexems_optimizer.solve import highs as highs_module
from flexems_optimizer.solve.builder import LinearProgram, ModelBuilder
from flexems_optimizer.solve.compile import (
    Binaries,
    CompiledProblem,
    Purpose,
    compile_problem,
    export_pays_more_steps,
    site_weights,
)
from flexems_optimizer.solve.fixed_lp import solve_fixed
from flexems_optimizer.solve.highs import (
    Solution,
    SolverSettings,
    SolveStatus,
    pass_model,
    solve,
)
from flexems_optimizer.solve.polish import (
    STRIDE_STEPS,
    WINDOW_STEPS,
    _pass_order,
    _window_gains,
    lp_mode,
    polish,
)

WARM_ONLY = SolverSettings(search_limit_s=0.0, polish_limit_s=0.0)


def compiled_home(steps: int, seed: int) -> CompiledProblem:
    parsed = parse_problem(hard_home(steps, seed))
    return compile_problem(
        parsed, Purpose.PLAN, Binaries({}, export_pays_more_steps(site_weights(parsed)))
    )


def fresh_highs(lp: LinearProgram) -> highspy.Highs:
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    for option in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
        highs.setOptionValue(option, 1e-9)
    pass_model(highs, lp)
    return highs


def assert_feasible(lp: LinearProgram, x: np.ndarray[Any, Any]) -> None:
    """Every row and bound held, every integer integral (to 1e-6 of the scale)."""
    matrix = scipy.sparse.csc_matrix(
        (lp.a_value, lp.a_index, lp.a_start), shape=(lp.n_rows, lp.n_cols)
    )
    rows = matrix @ x
    assert np.all(rows >= lp.row_lower - 1e-6) and np.all(rows <= lp.row_upper + 1e-6)
    assert np.all(x >= lp.col_lower - 1e-6) and np.all(x <= lp.col_upper + 1e-6)
    integers = x[lp.integer_columns]
    assert np.allclose(integers, np.round(integers), atol=1e-6)


def warm_start(compiled: CompiledProblem) -> Solution:
    return solve(compiled.lp, WARM_ONLY, duals=False, round_integers=compiled.round_integers)


@pytest.mark.parametrize(("steps", "seed"), [(96, 0), (96, 1), (192, 2)])
def test_a_hard_home_gets_a_cheaper_plan_that_holds_every_constraint(steps: int, seed: int) -> None:
    compiled = compiled_home(steps, seed)
    warm = warm_start(compiled)
    highs = fresh_highs(compiled.lp)
    polished = polish(highs, compiled.lp, warm.x, warm.objective, compiled.round_integers, 30.0)
    assert polished.improvements > 0
    assert polished.objective < warm.objective - 0.1  # measured: 0.4 to 1.3 cheaper
    assert polished.objective == pytest.approx(float(compiled.lp.cost @ polished.x), abs=1e-6)
    assert_feasible(compiled.lp, polished.x)


def test_the_model_is_left_as_it_came() -> None:
    """Integers back to their bounds and a MILP again: HiGHS then finds what a fresh model
    finds from the same start."""
    compiled = compiled_home(96, 0)
    lp = compiled.lp
    warm = warm_start(compiled)
    highs = fresh_highs(lp)
    polish(highs, lp, warm.x, warm.objective, compiled.round_integers, 30.0)
    model = highs.getLp()
    assert np.array_equal(np.asarray(model.col_lower_), lp.col_lower)
    assert np.array_equal(np.asarray(model.col_upper_), lp.col_upper)
    assert highs.getOptions().solve_relaxation is False
    highs.setOptionValue("solve_relaxation", True)
    highs.run()
    relaxation = highs.getObjectiveValue()
    assert relaxation == pytest.approx(fresh_relaxation(lp), rel=1e-9)


def fresh_relaxation(lp: LinearProgram) -> float:
    highs = fresh_highs(lp)
    highs.setOptionValue("solve_relaxation", True)
    highs.run()
    return float(highs.getObjectiveValue())


def test_a_plan_no_window_can_better_is_kept_as_it_is() -> None:
    """A plan the search is done with: searching again finds nothing and changes nothing."""
    compiled = compiled_home(96, 0)
    warm = warm_start(compiled)
    highs = fresh_highs(compiled.lp)
    first = polish(highs, compiled.lp, warm.x, warm.objective, compiled.round_integers, 30.0)
    again = polish(highs, compiled.lp, first.x, first.objective, compiled.round_integers, 30.0)
    assert again.improvements == 0 and again.objective == first.objective
    assert np.array_equal(again.x, first.x)


def test_its_time_limit_is_kept() -> None:
    """Checked before each window: no time, no window; a short limit ends within a window."""
    compiled = compiled_home(672, 0)
    warm = warm_start(compiled)
    highs = fresh_highs(compiled.lp)
    untouched = polish(highs, compiled.lp, warm.x, warm.objective, compiled.round_integers, 0.0)
    assert untouched.windows == 0 and np.array_equal(untouched.x, warm.x)
    started = time.perf_counter()
    short = polish(highs, compiled.lp, warm.x, warm.objective, compiled.round_integers, 0.2)
    assert 0 < short.windows < 168  # not one pass over 672 steps
    assert time.perf_counter() - started < 0.2 + 0.5  # at most one window (two LPs) over


def test_integer_columns_say_their_time_step_and_what_they_decide() -> None:
    builder = ModelBuilder()
    with pytest.raises(ValueError, match="time step"):
        builder.columns(3, upper=1.0, integer=True, decides="hp/running")
    with pytest.raises(ValueError, match="what they decide"):
        builder.columns(3, upper=1.0, integer=True, steps=np.array([4, 5, 6]))
    columns = builder.columns(
        3, upper=1.0, integer=True, steps=np.array([4, 5, 6]), decides="hp/running"
    )
    model = builder.build()
    assert model.integer_steps.tolist() == [4, 5, 6] and columns.size == 3
    assert model.decisions == ("hp/running",) and model.integer_decisions.tolist() == [0, 0, 0]


def test_a_plan_with_the_search_is_cheaper_than_the_warm_start() -> None:
    body = hard_home(96, 1)
    warm = schedule(body, WARM_ONLY)
    searched = schedule(body, SolverSettings(search_limit_s=1.0))
    assert searched["costs"]["total_eur"] < warm["costs"]["total_eur"] - 0.01
    assert searched["solver"]["mip_gap"] < warm["solver"]["mip_gap"]


def test_the_search_stops_at_a_plan_that_is_good_enough() -> None:
    """A plan within the gap of a known bound ends the search: here the first better plan."""
    compiled = compiled_home(96, 0)
    warm = warm_start(compiled)
    highs = fresh_highs(compiled.lp)
    full = polish(highs, compiled.lp, warm.x, warm.objective, compiled.round_integers, 30.0)
    assert full.improvements > 1
    first = polish(
        highs, compiled.lp, warm.x, warm.objective, compiled.round_integers, 30.0,
        good_enough=warm.objective - 1e-3,
    )  # fmt: skip
    assert first.improvements == 1 and first.windows < full.windows
    assert full.objective <= first.objective <= warm.objective - 1e-3
    done = polish(
        highs, compiled.lp, warm.x, warm.objective, compiled.round_integers, 30.0,
        good_enough=warm.objective,
    )  # fmt: skip
    assert done.windows == 0 and np.array_equal(done.x, warm.x)


def test_a_plan_the_search_brings_within_the_gap_is_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The coupled home with an on/off heat pump: the warm start is 0.13 % above the
    relaxation, the window search brings it within 0.1 %, and that is proven by the relaxation
    alone: no HiGHS search (one timed run, the relaxation; the fixed LPs are run by
    fixed_lp.solve_fixed; a search would add its own, and the LP after it for the duals)."""
    parsed = parse_problem(coupled_site(96, 15, on_off=True))
    compiled = compile_problem(
        parsed, Purpose.PLAN, Binaries({}, export_pays_more_steps(site_weights(parsed)))
    )
    settings = SolverSettings(mip_rel_gap=1e-3)
    warm = solve(compiled.lp, replace(settings, search_limit_s=0.0, polish_limit_s=0.0),
                 duals=False, round_integers=compiled.round_integers)  # fmt: skip
    relaxation = fresh_relaxation(compiled.lp)
    assert warm.objective - relaxation > 1e-3 * warm.objective  # not proven by the warm start
    runs = 0
    counted = highs_module._run

    def count(*args: Any, **kwargs: Any) -> None:
        nonlocal runs
        runs += 1
        counted(*args, **kwargs)

    monkeypatch.setattr(highs_module, "_run", count)
    proven = solve(compiled.lp, settings, round_integers=compiled.round_integers)
    assert runs == 1
    assert proven.status is SolveStatus.OPTIMAL and proven.col_dual.size == compiled.lp.n_cols
    assert proven.objective - relaxation <= 1e-3 * proven.objective
    assert proven.mip_gap == pytest.approx((proven.objective - relaxation) / proven.objective)
    assert_feasible(compiled.lp, proven.x)


def test_windows_where_rounding_acted_go_first_and_the_rest_still_get_their_turn() -> None:
    """With the relaxation given, a first pass tries only the windows where rounding changed
    a choice; where it changed none, the search is the plain one, window by window."""
    compiled = compiled_home(96, 0)
    lp = compiled.lp
    warm = warm_start(compiled)
    # Each from a fresh model: which windows can gain comes from the fixed LP's reduced costs,
    # and in a degenerate LP those depend on the basis HiGHS starts from.
    plain = polish(fresh_highs(lp), lp, warm.x, warm.objective, compiled.round_integers, 30.0)
    nothing_rounded = warm.x[lp.integer_columns]
    same = polish(
        fresh_highs(lp), lp, warm.x, warm.objective, compiled.round_integers, 30.0,
        relaxed=nothing_rounded,
    )  # fmt: skip
    assert same.improvements == plain.improvements > 0
    assert same.windows == plain.windows and same.objective == pytest.approx(plain.objective)
    choices = lp.integer_columns
    assert np.array_equal(np.round(same.x[choices]), np.round(plain.x[choices]))
    one_window = nothing_rounded.copy()
    one_window[lp.integer_steps == 22] = 0.5  # rounding acted at step 22 only
    first = polish(
        fresh_highs(lp), lp, warm.x, warm.objective, compiled.round_integers, 30.0,
        good_enough=warm.objective - 1e-9, relaxed=one_window,
    )  # fmt: skip
    # One of the two windows holding step 22 finds a better plan (measured: the plain search
    # finds its first in the sixth window, steps 20-27).
    assert first.windows <= 2 and first.objective < warm.objective


def test_what_a_window_could_gain_bounds_what_freeing_it_gains() -> None:
    """The reduced costs of the plan's fixed LP bound what relaxing a window's integers can
    gain (the plan's cost is convex in its integers' values, and they are a subgradient of
    it): checked window by window against the relaxed LP itself. Windows that cannot gain are
    the ones the search skips."""
    compiled = compiled_home(96, 0)
    lp = compiled.lp
    warm = warm_start(compiled)
    highs = fresh_highs(lp)
    columns = lp.integer_columns.astype(np.int32)
    integers = (columns, lp.col_lower[columns], lp.col_upper[columns])
    chosen = np.round(warm.x[columns])
    starts = np.arange(0, int(lp.integer_steps.max()) + 1, STRIDE_STEPS)
    with lp_mode(highs):
        own = solve_fixed(highs, columns, chosen)
        assert own is not None and own.objective == pytest.approx(warm.objective)
        could = _window_gains(lp.integer_steps, starts, own.reduced, chosen, integers)
        gained = []
        for start in starts:
            free = (lp.integer_steps >= start) & (lp.integer_steps < start + WINDOW_STEPS)
            highs.changeColsBounds(columns.size, columns, np.where(free, integers[1], chosen),
                                   np.where(free, integers[2], chosen))  # fmt: skip
            highs.run()
            gained.append(warm.objective - highs.getObjectiveValue())
    gained_eur = np.array(gained)
    assert np.all(gained_eur <= could + 1e-7 * abs(warm.objective))
    assert np.any(could <= 0.0) and np.any(gained_eur > 1e-3)  # both kinds of window are here
    assert np.all(gained_eur[could <= 0.0] <= 1e-7 * abs(warm.objective))


def test_windows_that_could_prove_the_plan_go_first() -> None:
    """When a window could on its own bring the plan within the gap of the bound, those go
    first, the most promising first; the rest keep their time order."""
    assert _pass_order(np.array([0.1, 0.5, 0.0, 0.3]), 0.25) == [1, 3, 0, 2]
    assert _pass_order(np.array([0.1, 0.5, 0.0, 0.3]), np.inf) == [0, 1, 2, 3]
    # The coupled home with an on/off heat pump: the window search brings it within 0.1 % of
    # the relaxation in its fourth window (measured), where time order took eight.
    parsed = parse_problem(coupled_site(96, 15, on_off=True))
    compiled = compile_problem(
        parsed, Purpose.PLAN, Binaries({}, export_pays_more_steps(site_weights(parsed)))
    )
    lp = compiled.lp
    warm = warm_start(compiled)
    good_enough = fresh_relaxation(lp) / (1 - 1e-3)
    assert warm.objective > good_enough
    proving = polish(fresh_highs(lp), lp, warm.x, warm.objective, compiled.round_integers, 30.0,
                     good_enough=good_enough)  # fmt: skip
    assert proving.objective <= good_enough and proving.windows <= 4


def test_a_stop_ends_the_search_with_the_best_plan_so_far() -> None:
    """`SolverSettings.stop` is asked during the window search and by HiGHS during its own; a
    stop that says yes ends a 30 s search at once with the plan so far, not proven."""
    asked = []

    def stop() -> bool:
        asked.append(time.perf_counter())
        return len(asked) > 3  # past the first windows

    settings = SolverSettings(search_limit_s=30.0, mip_rel_gap=1e-3, stop=stop)
    plan = schedule(hard_home(96, 0), settings)
    assert plan["solver"]["proven_optimal"] is False
    assert len(asked) >= 4
    assert plan["solver"]["total_s"] < 10  # long before the 30 s search limit


def test_a_stop_reaches_highs_own_search() -> None:
    """With the window search given no time, only HiGHS asks: its interrupt ends the search."""
    settings = SolverSettings(search_limit_s=30.0, mip_rel_gap=1e-3, polish_limit_s=0.0,
                              stop=lambda: True)  # fmt: skip
    plan = schedule(hard_home(96, 0), settings)
    assert plan["solver"]["proven_optimal"] is False
    assert plan["solver"]["total_s"] < 10
