"""The baseline (costs.baseline_energy_eur), worked out by hand: storages charge as soon as
possible, heat pumps heat when needed, processes run at their earliest; no solver where the rule
alone gives it, and the same rule as an LP where it does not."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest

from flexems_optimizer import schedule
from flexems_optimizer.baseline import Baseline, simulate
from flexems_optimizer.problem.parse import parse_problem
from flexems_optimizer.s2 import examples
from flexems_optimizer.scheduler import lp_baseline_energy
from flexems_optimizer.solve.highs import SolverSettings

from .problems import START, battery, problem

START_TIME = datetime.fromisoformat(START)

pytestmark = pytest.mark.filterwarnings("error")


def simulated(body: dict) -> Baseline:
    baseline = simulate(parse_problem(body))
    assert baseline is not None
    return baseline


def device_power(baseline: Baseline, name: str) -> list[float]:
    return next(d.power_kw for d in baseline.devices if d.name == name).tolist()


def test_an_ev_charges_as_soon_as_possible_and_no_more_than_its_target() -> None:
    ev = battery("ev", soc_at_start=0, soc_max=10, power_capacity=4, charging_efficiency=0.9,
                 soc_targets=[{"datetime": "2026-06-01T04:00:00+00:00", "value": 5.4}])  # fmt: skip
    body = problem(4, prices=[0.3, 0.3, 0.1, 0.1], devices=[ev])
    # 5.4 kWh stored at 90 %: 6 kWh from the grid, at full power from the start.
    assert device_power(simulated(body), "ev") == pytest.approx([4, 2, 0, 0])
    plan = schedule(body)
    assert plan["costs"]["baseline_energy_eur"] == pytest.approx(0.3 * 6)
    assert power_of(plan, "ev") == pytest.approx([0, 0, 4, 2])  # the plan waits for 0.1


def power_of(plan: dict, name: str) -> list[float]:
    return plan["devices"][name]["power_kw"]


def test_a_later_maximum_holds_charging_back_and_a_maximum_forces_discharging() -> None:
    # Needs 8 kWh at 04:00, may hold at most 3 kWh at 02:00: 3 now, the rest after 02:00.
    ev = battery("ev", soc_at_start=0, soc_max=10, power_capacity=4,
                 soc_maxima=[{"datetime": "2026-06-01T02:00:00+00:00", "value": 3}],
                 soc_targets=[{"datetime": "2026-06-01T04:00:00+00:00", "value": 8}])  # fmt: skip
    assert device_power(simulated(problem(4, prices=0.2, devices=[ev])), "ev") == pytest.approx(
        [3, 0, 4, 1]
    )
    # Holds 8 kWh, may hold at most 5 at 02:00: discharges as soon as it can, only that much.
    full = battery(soc_at_start=8, soc_max=10, power_capacity=2,
                   soc_maxima=[{"datetime": "2026-06-01T02:00:00+00:00", "value": 5}])  # fmt: skip
    assert device_power(simulated(problem(4, prices=0.2, devices=[full])), "battery") == (
        pytest.approx([-2, -1, 0, 0])
    )


def test_a_battery_that_needs_nothing_does_nothing() -> None:
    idle = battery(soc_at_start=5, soc_min=1, soc_max=10, power_capacity=5)
    body = problem(4, prices=[0.1, 0.5, 0.1, 0.5], devices=[idle])
    assert device_power(simulated(body), "battery") == [0, 0, 0, 0]
    assert schedule(body)["costs"]["baseline_energy_eur"] == 0


def test_a_heat_pump_heats_when_needed() -> None:
    # A buffer with 1 kWh used per hour, kept at ≥ 1 kWh, 6 kWh at 04:00; COP 2, 1.5 kW: at most
    # 3 kWh of heat per hour. Heat only to cover use until the last two hours, then flat out.
    buffer = {
        "name": "buffer",
        "type": "heat-storage",
        "soc-at-start": 2,
        "soc-min": 1,
        "soc-max": 8,
        "soc-usage": "1 kW",
        "soc-targets": [{"datetime": "2026-06-01T04:00:00+00:00", "value": 6}],
    }
    pump = {"name": "pump", "type": "heat-pump", "heats": "buffer", "power-capacity": 1.5,
            "cop": 2}  # fmt: skip
    body = problem(4, prices=0.2, devices=[buffer, pump])
    # Backwards, the least states that still reach 6: 4, 2, 1. So no heat in the first hour
    # (1 kWh left), 2 kWh of heat in the second (1 kW), then 3 kWh (1.5 kW) in each of the last.
    assert device_power(simulated(body), "pump") == pytest.approx([0, 1, 1.5, 1.5])
    assert schedule(body)["costs"]["baseline_energy_eur"] == pytest.approx(0.2 * 4)


def test_a_building_is_kept_at_its_comfort_minimum_to_the_end() -> None:
    # 20 °C at the start, 19 °C comfort minimum, 0 °C outside, 10 kWh/K, 0.2 kW/K, COP 3: it
    # cools to 19 °C, then the heat pump holds 19 °C: 19·0.2 = 3.8 kW of heat, 1.27 kW of power,
    # even in the horizon's last hours, where the optimal plan lets it cool at the comfort price.
    house = {
        "name": "house",
        "type": "heat-storage",
        "model": "building",
        "heat-capacity": "10 kWh/K",
        "heat-loss": "0.2 kW/K",
        "ambient-temperature": 0,
        "temperature-at-start": 20,
        "comfort-min": 19,
        "comfort-max": 22,
    }
    pump = {"name": "hp", "type": "heat-pump", "heats": "house", "power-capacity": "3 kW",
            "cop": 3}  # fmt: skip
    body = problem(12, prices=0.3, devices=[house, pump])
    power = device_power(simulated(body), "hp")
    cooled = math.ceil(math.log(19 / 20) / -0.02)  # hours until 20 · e^(−0.02·t) < 19
    assert power[: cooled - 1] == [0] * (cooled - 1)
    assert power[cooled:] == pytest.approx([19 * 0.2 / 3] * (12 - cooled), rel=1e-6)
    assert lp_baseline_energy(parse_problem(body), SolverSettings()) == pytest.approx(
        0.3 * sum(power), rel=1e-9
    )


def test_processes_run_at_their_earliest_start() -> None:
    washer = {"name": "washer", "type": "process", "policy": "SHIFTABLE", "power": "2 kW",
              "duration": "PT2H", "earliest-start": "2026-06-01T01:00:00+00:00"}  # fmt: skip
    body = problem(4, prices=[0.4, 0.4, 0.4, 0.1], devices=[washer])
    assert device_power(simulated(body), "washer") == [0, 2, 2, 0]
    assert schedule(body)["costs"]["baseline_energy_eur"] == pytest.approx(0.4 * 4)


def test_where_the_rule_breaks_a_site_limit_the_lp_follows_it_within_the_limit() -> None:
    # Charging at 4 kW would break the 3 kW connection with 1 kW of load: the LP charges at
    # 2 kW as soon as possible instead.
    ev = battery("ev", soc_at_start=0, soc_max=10, power_capacity=4,
                 soc_targets=[{"datetime": "2026-06-01T04:00:00+00:00", "value": 6}])  # fmt: skip
    body = problem(4, prices=[0.3, 0.2, 0.1, 0.1], devices=[ev],
                   site_power_capacity="3 kW", inflexible_consumption=1)  # fmt: skip
    assert simulate(parse_problem(body)) is None
    baseline = schedule(body)["costs"]["baseline_energy_eur"]
    assert baseline == pytest.approx(0.3 * 3 + 0.2 * 3 + 0.1 * 3 + 0.1 * 1)


def test_s2_devices_leave_the_baseline_to_the_lp() -> None:
    body = problem(24, prices=0.2, devices=[examples.pebc_entry("pv", examples.pv(START_TIME))])
    parsed = parse_problem(body)
    assert simulate(parsed) is None
    assert schedule(body)["costs"]["baseline_energy_eur"] == pytest.approx(
        lp_baseline_energy(parsed, SolverSettings())
    )


def test_a_month_of_morning_targets_is_simulated_as_the_lp_solves_it() -> None:
    days = 30
    targets = [{"datetime": f"2026-06-{day + 1:02d}T07:00:00+00:00", "value": 20}
               for day in range(1, days)]  # fmt: skip
    ev = battery("ev", soc_at_start=10, soc_max=40, power_capacity=7, soc_usage="0.5 kW",
                 soc_targets=targets)  # fmt: skip
    body = problem(24 * days, prices=np.linspace(0.1, 0.3, 24 * days).tolist(), devices=[ev])
    parsed = parse_problem(body)
    baseline = simulate(parsed)
    assert baseline is not None
    assert schedule(body)["costs"]["baseline_energy_eur"] == pytest.approx(
        lp_baseline_energy(parsed, SolverSettings()), rel=1e-6
    )
