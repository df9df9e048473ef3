"""The model HiGHS holds is the one the builder made (solve/highs.py `pass_model`, which hands
HiGHS numpy arrays directly), and a model HiGHS refuses is a failed solve, not a plan."""

from __future__ import annotations

import highspy
import numpy as np
import pytest

from flexems_optimizer import SolverError, schedule
from flexems_optimizer.problem.parse import parse_problem
from flexems_optimizer.samples import coupled_site, home_battery
from flexems_optimizer.solve import highs as highs_module
from flexems_optimizer.solve.builder import LinearProgram, ModelBuilder
from flexems_optimizer.solve.compile import (
    Binaries,
    Purpose,
    compile_problem,
    export_pays_more_steps,
    site_weights,
)
from flexems_optimizer.solve.highs import SolverSettings, SolveStatus, pass_model, solve


def compiled_lp(body: dict[str, object]) -> LinearProgram:
    parsed = parse_problem(body)
    binaries = Binaries({}, export_pays_more_steps(site_weights(parsed)))
    return compile_problem(parsed, Purpose.PLAN, binaries).lp


@pytest.mark.parametrize(
    "body",
    [home_battery(96, 15), coupled_site(96, 15, on_off=True)],
    ids=["lp", "milp"],
)
def test_highs_holds_the_model_as_built(body: dict[str, object]) -> None:
    model = compiled_lp(body)
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    assert pass_model(highs, model)
    held = highs.getLp()
    for name in ("col_lower", "col_upper", "row_lower", "row_upper"):
        np.testing.assert_array_equal(np.asarray(getattr(held, f"{name}_")), getattr(model, name))
    np.testing.assert_array_equal(np.asarray(held.col_cost_), model.cost)
    matrix = held.a_matrix_
    assert matrix.format_ == highspy.MatrixFormat.kColwise
    np.testing.assert_array_equal(np.asarray(matrix.start_), model.a_start)
    np.testing.assert_array_equal(np.asarray(matrix.index_), model.a_index)
    np.testing.assert_array_equal(np.asarray(matrix.value_), model.a_value)
    integer = np.asarray([kind == highspy.HighsVarType.kInteger for kind in held.integrality_])
    assert np.flatnonzero(integer).tolist() == model.integer_columns.tolist()


def test_an_lp_is_solved_as_an_lp_with_duals() -> None:
    """Every column marked continuous (HiGHS reads an empty integrality array as a full one):
    no branch and bound, duals for the explanation."""
    model = compiled_lp(home_battery(96, 15))
    solution = solve(model, SolverSettings())
    assert solution.status is SolveStatus.OPTIMAL and not solution.is_mip
    assert solution.row_dual.size == model.n_rows


def test_a_model_highs_refuses_is_a_failed_solve_not_a_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A NaN bound is a bug of ours: HiGHS refuses the model (and would then solve an empty
    one as "optimal"); the plan fails with a solver error instead of reading nothing."""
    builder = ModelBuilder()
    columns = builder.columns(2, upper=np.array([1.0, np.nan]))
    builder.coefficients(builder.rows(1, lower=1.0), columns, 1.0)  # x0 + x1 >= 1
    assert solve(builder.build(), SolverSettings()).status is SolveStatus.ERROR

    passed = highs_module.pass_model

    def with_a_nan(highs: highspy.Highs, model: LinearProgram) -> bool:
        model.col_upper[0] = np.nan
        return passed(highs, model)

    monkeypatch.setattr(highs_module, "pass_model", with_a_nan)
    with pytest.raises(SolverError, match="status error"):
        schedule(home_battery(96, 15))
