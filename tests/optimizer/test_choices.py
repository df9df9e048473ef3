"""A site's next plan starts from the on/off choices of its last one (solve/choices.py): they are
matched by what they decide and when, kept only where they are at least as cheap as the
relaxation's rounding, and never make a plan worse or wrong."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from flexems_optimizer import schedule
from flexems_optimizer.problem.parse import parse_problem
from flexems_optimizer.samples import hard_home
from flexems_optimizer.scheduler import schedule_from
from flexems_optimizer.solve.choices import Choices, choices_of, hint
from flexems_optimizer.solve.highs import SolverSettings

from .test_polish import compiled_home, warm_start

WARM_ONLY = SolverSettings(search_limit_s=0.0, polish_limit_s=0.0)
SEARCHED = SolverSettings(search_limit_s=1.0, mip_rel_gap=1e-3)


def test_choices_are_named_by_what_they_decide_and_survive_the_pipe() -> None:
    compiled = compiled_home(96, 0)
    warm = warm_start(compiled)
    grid = parse_problem(hard_home(96, 0)).grid
    choices = choices_of(compiled.lp, warm.x, grid)
    assert set(choices.decisions) == {"ev/charging", "hp/running", "washer/start",
                                      "dishwasher/start"}  # fmt: skip
    at, value = choices.decisions["hp/running"]
    assert len(at) == 96 and set(value) <= {0, 1} and at[1] - at[0] == 15 * 60 * 1000
    assert Choices.from_json(choices.as_json()) == choices
    assert np.array_equal(
        hint(compiled.lp, choices, grid), np.round(warm.x[compiled.lp.integer_columns])
    )


@pytest.mark.parametrize(
    "garbage",
    [None, 3, "x", {}, {"step_ms": 900000}, {"step_ms": "a", "decisions": {}},
     {"step_ms": 900000, "decisions": {"hp/running": [[1, 2], [1]]}},
     {"step_ms": 900000, "decisions": {"hp/running": [["t"], [1]]}},
     {"step_ms": 900000, "decisions": []}],
)  # fmt: skip
def test_anything_else_is_no_choices(garbage: Any) -> None:
    assert Choices.from_json(garbage) is None


def test_a_later_plan_finds_each_choice_at_its_time() -> None:
    """An hour later the step that was fifth is first; the last hour was not planned before;
    another step length or an unknown decision says nothing."""
    compiled = compiled_home(96, 0)
    lp = compiled.lp
    warm = warm_start(compiled)
    grid = parse_problem(hard_home(96, 0)).grid
    choices = choices_of(lp, warm.x, grid)
    later = replace(grid, start=grid.start + 4 * grid.step)
    shifted = hint(lp, choices, later)
    before = np.round(warm.x[lp.integer_columns])
    for name in ("hp/running", "ev/charging"):
        mine = lp.integer_decisions == lp.decisions.index(name)
        assert np.array_equal(shifted[mine][:92], before[mine][4:])
        assert np.isnan(shifted[mine][92:]).all()
    other_step = replace(grid, step=grid.step * 2, n_steps=48)
    assert np.isnan(hint(lp, choices, other_step)).all()
    renamed = Choices(choices.step_ms, {f"old {k}": v for k, v in choices.decisions.items()})
    assert np.isnan(hint(lp, renamed, grid)).all()


def test_a_plan_from_an_earlier_plan_is_at_least_as_good_as_it() -> None:
    """Without any search of its own, the plan started from a searched plan's choices costs
    what that plan cost (less than the relaxation's rounding), and says where it started."""
    body = hard_home(96, 1)
    searched, choices = schedule_from(body, SEARCHED)
    assert choices is not None and searched["solver"]["started_from"] == "relaxation"
    cold = schedule(body, WARM_ONLY)
    again, _ = schedule_from(body, WARM_ONLY, choices)
    assert again["solver"]["started_from"] == "earlier_plan"
    assert again["costs"]["total_eur"] == pytest.approx(searched["costs"]["total_eur"], abs=1e-6)
    assert again["costs"]["total_eur"] < cold["costs"]["total_eur"] - 0.01
    assert cold["solver"]["started_from"] == "relaxation"


def test_choices_that_can_no_longer_be_kept_are_left_aside() -> None:
    """The EV charging at its minimum in every step would overfill it: that start is
    infeasible, and the plan is the one the relaxation's rounding gives."""
    body = hard_home(96, 0)
    _, choices = schedule_from(body, WARM_ONLY)
    assert choices is not None
    at, _ = choices.decisions["ev/charging"]
    overfilling = Choices(
        choices.step_ms, {**choices.decisions, "ev/charging": (at, [1] * len(at))}
    )
    plan, _ = schedule_from(body, WARM_ONLY, overfilling)
    assert plan["solver"]["started_from"] == "relaxation"
    assert plan["costs"]["total_eur"] == schedule(body, WARM_ONLY)["costs"]["total_eur"]


def test_a_plan_of_lps_has_no_choices() -> None:
    body = hard_home(96, 0)
    body["flex-model"] = [d for d in body["flex-model"] if d["name"] == "battery"]
    body["flex-context"].pop("site-peak-consumption-price")
    plan, choices = schedule_from(body)
    assert choices is None and plan["solver"]["started_from"] is None


def test_what_the_bounds_now_forbid_is_dropped_from_an_earlier_plan_not_the_rest() -> None:
    """Choices the bounds now forbid (charging an EV that is away) are cleared; the rest of
    the earlier plan still starts the new one."""
    away = hard_home(96, 1)
    ev = next(d for d in away["flex-model"] if d["name"] == "ev")
    ev["consumption-capacity"] = {"start": away["start"], "resolution": "PT15M",
                                  "values": [0.0] * 4 + [7.4] * 92}  # fmt: skip
    searched, choices = schedule_from(away, SEARCHED)
    assert choices is not None
    at, value = choices.decisions["ev/charging"]
    assert value[:4] == [0] * 4
    forbidden = Choices(
        choices.step_ms, {**choices.decisions, "ev/charging": (at, [1] * 4 + value[4:])}
    )
    plan, _ = schedule_from(away, WARM_ONLY, forbidden)
    assert plan["solver"]["started_from"] == "earlier_plan"
    assert plan["costs"]["total_eur"] == pytest.approx(searched["costs"]["total_eur"], abs=1e-6)
    assert plan["devices"]["ev"]["power_kw"][:4] == [0.0] * 4


def test_a_later_search_keeps_what_the_plan_carried_out_does_now() -> None:
    """A site's second search of the same problem holds the first step's choices of the plan
    already out: a heat pump it started now keeps running (its minimum run of an hour), where a
    search free to choose switches it off again."""
    body = hard_home(96, 0)
    plan, choices = schedule_from(body, SEARCHED)
    assert choices is not None
    at, running = choices.decisions["hp/running"]
    assert running[0] == 0 and plan["devices"]["hp"]["power_kw"][0] == 0
    started_now = Choices(
        choices.step_ms, {**choices.decisions, "hp/running": (at, [1, *running[1:]])}
    )
    held, _ = schedule_from(body, SEARCHED, started_now, hold_first_step=True)
    free, _ = schedule_from(body, SEARCHED, started_now)
    assert all(kw >= 1.0 - 1e-6 for kw in held["devices"]["hp"]["power_kw"][:4])  # 1 h at ≥ 1 kW
    assert free["devices"]["hp"]["power_kw"][0] == 0
    # Held only where the earlier plan said something: a start without choices holds nothing.
    unheld, _ = schedule_from(body, SEARCHED, Choices(choices.step_ms, {}), hold_first_step=True)
    assert unheld["devices"]["hp"]["power_kw"][0] == 0
