"""Run-time rules of on/off heat pumps: minimum run and pause, a cap on starts, and the state
before the horizon (known answers, worked from first principles)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from flexems_optimizer import ProblemError, schedule

from .problems import problem
from .test_heating_and_processes import building

# A day of quarter hours with prices that change every hour: short runs would pay.
PRICES = np.round(0.25 + 0.15 * np.sin(np.arange(24) * 1.3), 3).tolist()


def quarter_hours(devices: list[dict[str, Any]], steps: int = 96) -> dict[str, Any]:
    body = problem(steps // 4, prices=PRICES[: steps // 4], devices=devices)
    body["resolution"] = "PT15M"
    return body


def pump(**rules: Any) -> dict[str, Any]:
    return {"name": "hp", "type": "heat-pump", "heats": "house", "power-capacity": "3 kW",
            "cop": 3, "on-off": True, **rules}  # fmt: skip


def runs(power: list[float]) -> list[tuple[bool, int]]:
    """(on, length) of each stretch of equal state, in order."""
    stretches: list[tuple[bool, int]] = []
    for on in (p > 1e-6 for p in power):
        if stretches and stretches[-1][0] == on:
            stretches[-1] = (on, stretches[-1][1] + 1)
        else:
            stretches.append((on, 1))
    return stretches


def test_minimum_run_and_pause_give_whole_blocks() -> None:
    free = schedule(quarter_hours([building(), pump()]))["devices"]["hp"]["power_kw"]
    assert min(length for on, length in runs(free) if on) < 8  # without rules: short blips
    plan = schedule(quarter_hours([building(), pump(**{"min-run-time": "PT2H",
                                                      "min-off-time": "PT1H"})]))  # fmt: skip
    stretches = runs(plan["devices"]["hp"]["power_kw"])
    inner = stretches[1:-1]  # the first and last may be cut by the horizon
    assert all(length >= 8 for on, length in inner if on), stretches
    assert all(length >= 4 for on, length in inner if not on), stretches


def test_a_heat_pump_already_running_keeps_its_minimum_run() -> None:
    # Started 40 minutes before the plan with a 2-hour minimum run: 80 minutes left, so the
    # first 6 quarter hours (rounded up) are on, even though the house is warm.
    warm = building(**{"temperature-at-start": 21.5})
    plan = schedule(quarter_hours([warm, pump(**{
        "min-run-time": "PT2H", "running-since": "2026-05-31T23:20:00+00:00"})]))  # fmt: skip
    power = plan["devices"]["hp"]["power_kw"]
    assert power[:6] == pytest.approx([3] * 6)


def test_max_starts_caps_the_starts() -> None:
    free = schedule(quarter_hours([building(), pump()]))["devices"]["hp"]["power_kw"]
    assert sum(1 for on, _ in runs(free) if on) > 2
    plan = schedule(quarter_hours([building(), pump(**{"max-starts": 2})]))
    starts = sum(1 for on, _ in runs(plan["devices"]["hp"]["power_kw"]) if on)
    assert starts <= 2  # a run at the first step counts too: before the plan it was off


def test_max_starts_per_day_caps_each_calendar_day() -> None:
    # Two days of hours from midnight at +02:00 (the second begins at step 24, 22:00 UTC), each
    # with the day's price swings: without the cap the heat pump starts several times a day.
    body = problem(48, prices=PRICES * 2, devices=[building(), pump()],
                   start="2026-06-01T00:00:00+02:00")  # fmt: skip
    free = starts(schedule(body)["devices"]["hp"]["power_kw"])
    assert sum(t < 24 for t in free) > 1 and sum(t >= 24 for t in free) > 1
    body["flex-model"][1]["max-starts-per-day"] = 1
    plan = schedule(body)
    capped = starts(plan["devices"]["hp"]["power_kw"])
    # One start a day: the house needs heat on both days.
    assert sum(t < 24 for t in capped) == 1 and sum(t >= 24 for t in capped) == 1
    assert plan["timestamps"][24] == "2026-06-01T22:00:00Z"


def starts(power: list[float]) -> list[int]:
    """The steps where the device starts (off before the plan)."""
    on = [p > 1e-6 for p in power]
    return [t for t in range(len(on)) if on[t] and (t == 0 or not on[t - 1])]


@pytest.mark.parametrize(
    ("rules", "code", "path"),
    [
        ({"min-run-time": "-PT1H"}, "invalid_duration", "min-run-time"),
        ({"max-starts": -1}, "invalid_value", "max-starts"),
        ({"max-starts-per-day": 1.5}, "invalid_value", "max-starts-per-day"),
        ({"running-since": "2026-06-01T05:00:00+00:00"}, "invalid_value", "running-since"),
        ({"running-since": "2026-06-01T00:00:00+00:00", "off-since": "2026-06-01T00:00:00+00:00"},
         "conflicting_fields", "off-since"),
        ({"start-cost": -0.5}, "invalid_value", "start-cost"),
        ({"start-cost": "20000 EUR"}, "invalid_value", "start-cost"),
        ({"start-cost": "0.5 EUR/kWh"}, "invalid_unit", "start-cost"),
        ({"start-cost": "half a euro"}, "invalid_quantity", "start-cost"),
    ],
)  # fmt: skip
def test_run_rules_bad_input(rules: dict[str, Any], code: str, path: str) -> None:
    with pytest.raises(ProblemError) as raised:
        schedule(quarter_hours([building(), pump(**rules)]))
    assert (raised.value.code, raised.value.path) == (code, f"flex-model[1].{path}")


def test_run_rules_need_on_off_operation() -> None:
    modulating = {k: v for k, v in pump(**{"min-run-time": "PT1H"}).items() if k != "on-off"}
    with pytest.raises(ProblemError) as raised:
        schedule(quarter_hours([building(), modulating]))
    assert raised.value.code == "missing_field"


def test_a_minimum_run_longer_than_the_horizon_is_fine() -> None:
    plan = schedule(quarter_hours([building(), pump(**{"min-run-time": "P2D"})], steps=16))
    assert plan["status"] in {"optimal", "relaxed"}


def test_no_starts_allowed_and_a_target_that_needs_one_is_explained() -> None:
    cold = building(**{"temperature-at-start": 19, "comfort-min": 21, "comfort-max": 23})
    plan = schedule(quarter_hours([cold, pump(**{"max-starts": 0, "off-since":
                                                 "2026-05-31T00:00:00+00:00"})]))  # fmt: skip
    assert plan["devices"]["hp"]["power_kw"] == pytest.approx([0] * 96)
    assert plan["status"] == "relaxed"  # the comfort band is missed, and said so
    assert any(b["device"] == "house" for b in plan["breaches"])
    assert plan["notes"] == ["hp: a target needs it to run, max-starts is 0"]
    # A second heat pump that may start: the rule is no longer why; it heats.
    second = {**pump(), "name": "hp2"}
    plan = schedule(quarter_hours([cold, pump(**{"max-starts": 0}), second]))
    assert plan["notes"] == []
    assert sum(plan["devices"]["hp2"]["power_kw"]) > 0


def test_a_charger_that_may_not_start_makes_its_target_infeasible_and_says_why() -> None:
    body = quarter_hours([charger(**{"max-starts-per-day": 0})])
    body["flex-context"]["relax-constraints"] = False
    plan = schedule(body)
    assert plan["status"] == "infeasible"
    assert plan["message"] == (
        "soc-target 25 kWh at 2026-06-02T00:00:00Z for ev unreachable: at most 10 kWh possible; "
        "ev: a target needs it to run, max-starts-per-day is 0"
    )
    # Charging already when the plan starts: it may go on, so the rule is no cause.
    body["flex-model"][0]["running-since"] = "2026-05-31T23:00:00+00:00"
    assert schedule(body)["status"] != "infeasible"


@pytest.mark.parametrize("cost", [0.5, "0.5 EUR", "50 ct"])
def test_a_start_cost_is_an_amount_in_the_problems_currency(cost: object) -> None:
    """As FlexMeasures writes amounts: a number, or a quantity in the prices' currency."""
    plan = schedule(quarter_hours([building(), pump(**{"start-cost": cost})]))
    starts = sum(1 for on, _ in runs(plan["devices"]["hp"]["power_kw"]) if on)
    assert starts > 0 and plan["costs"]["start_eur"] == pytest.approx(0.5 * starts)


def test_a_start_cost_in_another_currency_than_the_prices_is_refused() -> None:
    body = quarter_hours([building(), pump(**{"start-cost": "0.5 SEK"})])
    body["flex-context"]["production-price"] = "0.05 EUR/kWh"
    with pytest.raises(ProblemError) as raised:
        schedule(body)
    assert (raised.value.code, raised.value.path) == (
        "mixed_currencies",
        "flex-model[1].start-cost",
    )


def test_a_start_cost_merges_short_runs_when_it_pays() -> None:
    free = schedule(quarter_hours([building(), pump()]))
    free_runs = sum(1 for on, _ in runs(free["devices"]["hp"]["power_kw"]) if on)
    plan = schedule(quarter_hours([building(), pump(**{"start-cost": 0.5})]))
    stretches = runs(plan["devices"]["hp"]["power_kw"])
    starts = sum(1 for on, _ in stretches if on)
    assert starts < free_runs  # fewer, longer runs
    assert plan["costs"]["start_eur"] == pytest.approx(0.5 * starts)
    total = sum(plan["costs"][k] for k in ("energy_eur", "peak_eur", "breach_eur", "start_eur"))
    assert plan["costs"]["total_eur"] == pytest.approx(total)


# An EV charger with a 4.1 kW minimum (6 A on three phases) that needs 15 kWh by the end of the
# day; prices change every hour, so without rules it charges in the cheapest separate hours.
def charger(**rules: Any) -> dict[str, Any]:
    return {"name": "ev", "type": "storage", "soc-at-start": 10, "soc-max": 60,
            "power-capacity": 7.4, "production-capacity": 0, "min-power": "4.1 kW",
            "soc-targets": [{"datetime": "2026-06-02T00:00:00+00:00", "value": 25}],
            **rules}  # fmt: skip


def test_a_charger_with_a_minimum_run_charges_in_whole_blocks() -> None:
    free = runs(schedule(quarter_hours([charger()]))["devices"]["ev"]["power_kw"])
    assert min(length for on, length in free if on) < 12  # without rules: shorter runs
    plan = schedule(quarter_hours([charger(**{"min-run-time": "PT3H"})]))
    power = plan["devices"]["ev"]["power_kw"]
    stretches = runs(power)  # only the last run may be cut short, by the horizon
    assert all(length >= 12 for on, length in stretches[:-1] if on), stretches
    assert all(p < 1e-6 or p > 4.1 - 1e-6 for p in power)
    assert plan["devices"]["ev"]["soc_kwh"][-1] == pytest.approx(25, abs=1e-6)


def test_a_charger_already_charging_keeps_its_minimum_run() -> None:
    # Started 20 minutes before the plan with a 1-hour minimum run: 40 minutes (3 steps) left,
    # at the minimum power or more, even at the day's dearest prices.
    plan = schedule(quarter_hours([charger(**{
        "min-run-time": "PT1H", "running-since": "2026-05-31T23:40:00+00:00"})]))  # fmt: skip
    assert all(p >= 4.1 - 1e-6 for p in plan["devices"]["ev"]["power_kw"][:3])


def test_a_charger_with_one_start_charges_in_one_run() -> None:
    free = runs(schedule(quarter_hours([charger()]))["devices"]["ev"]["power_kw"])
    assert sum(1 for on, _ in free if on) > 1
    plan = schedule(quarter_hours([charger(**{"max-starts": 1, "start-cost": 0.2})]))
    assert sum(1 for on, _ in runs(plan["devices"]["ev"]["power_kw"]) if on) == 1
    assert plan["costs"]["start_eur"] == pytest.approx(0.2)


def test_a_charger_away_is_not_running() -> None:
    # Away from 02:00 to 04:00: a 3-hour minimum run cannot span it, and no run counts there.
    away = charger(**{"min-run-time": "PT3H", "availability": [
        {"start": "2026-06-01T00:00:00+00:00", "end": "2026-06-01T02:00:00+00:00"},
        {"start": "2026-06-01T04:00:00+00:00", "end": "2026-06-02T00:00:00+00:00"}]})  # fmt: skip
    power = schedule(quarter_hours([away]))["devices"]["ev"]["power_kw"]
    assert power[8:16] == pytest.approx([0] * 8)
    stretches = runs(power)
    assert all(length >= 12 for on, length in stretches[:-1] if on), stretches


def test_run_rules_on_a_storage_need_a_minimum_power() -> None:
    battery = {k: v for k, v in charger(**{"min-run-time": "PT1H"}).items() if k != "min-power"}
    with pytest.raises(ProblemError) as raised:
        schedule(quarter_hours([battery]))
    assert (raised.value.code, raised.value.path) == ("missing_field", "flex-model[0].min-run-time")
