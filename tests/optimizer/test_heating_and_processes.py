"""Heat pumps, heat storage (buffers, buildings) and processes: known answers by hand."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from flexems_optimizer import ProblemError, schedule
from flexems_optimizer.samples import coupled_site

from .problems import START, hourly, problem


def quarter_hours(values: list[float], start: str = START) -> dict[str, Any]:
    return {"start": start, "resolution": "PT15M", "values": values}


def boiler_problem() -> dict[str, Any]:
    """The seed's boiler: 3.75 kWh at 05:00, at least 3.7, at most 5.1, 4.8 kWh at 07:00."""
    start = "2026-06-01T05:00:00+00:00"
    return {
        "start": start,
        "end": "2026-06-01T07:00:00+00:00",
        "resolution": "PT15M",
        "flex-context": {
            "consumption-price": quarter_hours([0.3, 0.3, 0.1, 0.3, 0.3, 0.3, 0.3, 0.3], start)
        },
        "flex-model": [
            {
                "name": "boiler", "type": "heat-storage", "soc-at-start": "3.75 kWh",
                "soc-min": "3.7 kWh", "soc-max": "5.1 kWh", "storage-efficiency": "99.95%",
                "soc-targets": [{"datetime": "2026-06-01T07:00:00+00:00", "value": "4.8 kWh"}],
            },
            {"name": "element", "type": "heat-pump", "heats": "boiler", "power-capacity": "2 kW",
             "cop": 1},
        ],
    }  # fmt: skip


def test_the_boiler_reaches_its_target_at_least_cost() -> None:
    plan = schedule(boiler_problem())
    element = plan["devices"]["element"]["power_kw"]
    boiler = plan["devices"]["boiler"]
    assert plan["status"] == "optimal"
    assert boiler["soc_kwh"][-1] == pytest.approx(4.8, abs=1e-6)
    # Flat out in the cheap quarter hour; the rest as late as possible (heat kept loses 0.05%
    # per quarter hour): the last quarter hour full, the one before topping up.
    assert element[2] == pytest.approx(2)
    assert element[7] == pytest.approx(2)
    assert 0 < element[6] < 2
    assert element[:2] == [0, 0] and element[3:6] == [0, 0, 0]
    assert boiler["heat_kw"] == element  # a heating element: COP 1
    assert min(boiler["soc_kwh"]) >= 3.7 - 1e-9


def building(**extra: Any) -> dict[str, Any]:
    entry = {
        "name": "house", "type": "heat-storage", "model": "building",
        "heat-capacity": "10 kWh/K", "heat-loss": "0.2 kW/K", "ambient-temperature": 0,
        "temperature-at-start": 20, "comfort-min": 19, "comfort-max": 22,
    }  # fmt: skip
    entry.update(extra)
    return entry


HEAT_PUMP = {"name": "hp", "type": "heat-pump", "heats": "house", "power-capacity": "3 kW",
             "cop": 3}  # fmt: skip


def simulate_building(power: list[float], cop: float, start: float, dt: float = 1.0) -> list[float]:
    """T_j = a·T_{j−1} + (1 − a)/UA·(COP·P + UA·T_out), the RC model's exact steps."""
    capacity, loss, outdoor = 10.0, 0.2, 0.0
    a = math.exp(-loss * dt / capacity)
    temperatures, level = [], start
    for p in power:
        level = a * level + (1 - a) / loss * (cop * p + loss * outdoor)
        temperatures.append(level)
    return temperatures


def test_the_building_preheats_before_a_price_peak_and_stays_comfortable() -> None:
    prices = [0.10, 0.10, 0.10, 0.10, 0.90, 0.90, 0.90, 0.90]
    plan = schedule(problem(8, prices=prices, devices=[building(), HEAT_PUMP]))
    power = plan["devices"]["hp"]["power_kw"]
    temperature = plan["devices"]["house"]["temperature_c"]
    assert plan["status"] == "optimal"
    assert power[4:] == pytest.approx([0, 0, 0, 0], abs=1e-6)  # nothing bought in the peak
    assert sum(power[:4]) > 0
    assert min(temperature) >= 19 - 1e-6 and max(temperature) <= 22 + 1e-6
    # Heating costs: it ends exactly at the comfort minimum, no warmer.
    assert temperature[-1] == pytest.approx(19, abs=1e-6)
    # The reported temperatures follow from the reported powers.
    assert temperature == pytest.approx(simulate_building(power, 3.0, 20.0), abs=1e-5)
    assert plan["devices"]["hp"]["heat_kw"] == pytest.approx([3 * p for p in power], abs=1e-5)
    assert any(b["constraint"] == "comfort-min" for b in plan["explanation"]["binding"])


def test_a_cold_night_too_much_for_the_heat_pump_breaches_comfort_in_kelvin() -> None:
    small = {**HEAT_PUMP, "power-capacity": "0.5 kW"}
    plan = schedule(
        problem(4, prices=0.2, devices=[building(**{"temperature-at-start": 19}), small])
    )
    assert plan["status"] == "relaxed"
    breach = plan["breaches"][0]
    assert (breach["constraint"], breach["unit"], breach["device"]) == ("comfort-min", "K", "house")
    # Flat out the whole time: 1.5 kW of heat against 3.8 kW of losses.
    assert plan["devices"]["hp"]["power_kw"] == pytest.approx([0.5] * 4)


def test_a_heat_pump_with_minimum_power_runs_at_zero_or_above_it() -> None:
    on_off = {**HEAT_PUMP, "min-power": "2 kW"}
    plan = schedule(problem(8, prices=[0.1, 0.2, 0.3, 0.1, 0.5, 0.5, 0.2, 0.1],
                            devices=[building(), on_off]))  # fmt: skip
    assert plan["solver"]["problem_class"] == "milp"
    for p in plan["devices"]["hp"]["power_kw"]:
        assert p == pytest.approx(0, abs=1e-6) or 2 - 1e-6 <= p <= 3 + 1e-6


def test_the_cop_model_follows_carnot() -> None:
    pump = {**HEAT_PUMP, "cop": None}
    del pump["cop"]
    pump["cop-model"] = {"outdoor-temperature": hourly([-5, 0, 5, 10]),
                         "supply-temperature": "35 °C", "carnot-fraction": "50%"}  # fmt: skip
    plan = schedule(problem(4, prices=0.2, devices=[building(), pump]))
    expected = [min(0.5 * 308.15 / (35 - t), 8.0) for t in (-5, 0, 5, 10)]
    assert plan["devices"]["hp"]["cop"] == pytest.approx(expected, abs=1e-6)


def test_a_heat_pump_tariff_prices_its_own_energy() -> None:
    pump = {**HEAT_PUMP, "consumption-price": "0.2 EUR/kWh"}
    load = hourly([1, 1, 1, 1])
    plan = schedule(problem(4, prices=0.4, devices=[building(), pump], inflexible_consumption=load))
    used = sum(plan["devices"]["hp"]["power_kw"])
    assert used > 0
    assert plan["costs"]["energy_eur"] == pytest.approx(0.4 * 4 + 0.2 * used, abs=1e-6)
    # The connection still carries it all.
    assert plan["site"]["import_kw"] == pytest.approx(
        [1 + p for p in plan["devices"]["hp"]["power_kw"]], abs=1e-6
    )


def washer(**fields: Any) -> dict[str, Any]:
    entry = {"name": "washer", "type": "process", "power": "2 kW", "duration": "PT2H"}
    entry.update({key.replace("_", "-"): value for key, value in fields.items()})
    return entry


def test_shiftable_picks_the_cheapest_contiguous_block() -> None:
    plan = schedule(problem(6, prices=[0.3, 0.2, 0.1, 0.1, 0.4, 0.1],
                            devices=[washer(policy="SHIFTABLE")]))  # fmt: skip
    assert plan["devices"]["washer"]["power_kw"] == pytest.approx([0, 0, 2, 2, 0, 0])
    assert plan["devices"]["washer"]["start"] == "2026-06-01T02:00:00Z"


def test_a_power_profile_puts_its_heating_phase_in_the_cheapest_step() -> None:
    profile = washer(policy="SHIFTABLE", profile=[2.0, 0.2, 0.2, 0.5])
    del profile["power"], profile["duration"]
    plan = schedule(problem(8, prices=[0.5, 0.1, 0.5, 0.5, 0.5, 0.5, 0.2, 0.2], devices=[profile]))
    # Start 1 costs 2·0.1 + 0.2·0.5 + 0.2·0.5 + 0.5·0.5 = 0.65, the least of all starts.
    assert plan["devices"]["washer"]["start"] == "2026-06-01T01:00:00Z"
    assert plan["devices"]["washer"]["power_kw"] == pytest.approx([0, 2, 0.2, 0.2, 0.5, 0, 0, 0])


def test_breakable_picks_the_cheapest_steps_earliest_on_ties() -> None:
    plan = schedule(problem(6, prices=[0.3, 0.1, 0.4, 0.1, 0.2, 0.5],
                            devices=[washer(policy="BREAKABLE", duration="PT3H")]))  # fmt: skip
    assert plan["devices"]["washer"]["power_kw"] == pytest.approx([0, 2, 0, 2, 2, 0])
    tied = schedule(problem(6, prices=0.2, devices=[washer(policy="BREAKABLE")]))
    assert tied["devices"]["washer"]["power_kw"] == pytest.approx([2, 2, 0, 0, 0, 0])


def test_inflexible_starts_at_the_first_allowed_step() -> None:
    plan = schedule(problem(6, prices=[0.1, 0.1, 0.9, 0.9, 0.1, 0.1],
                            devices=[washer(earliest_start="2026-06-01T02:00:00Z")]))  # fmt: skip
    assert plan["devices"]["washer"]["power_kw"] == pytest.approx([0, 0, 2, 2, 0, 0])


def test_time_restrictions_and_sense_max() -> None:
    restricted = washer(
        policy="SHIFTABLE",
        time_restrictions=[{"start": "2026-06-01T02:00:00Z", "duration": "PT1H"}],
    )
    plan = schedule(problem(6, prices=[0.3, 0.2, 0.1, 0.1, 0.4, 0.1], devices=[restricted]))
    # 02:00–03:00 is forbidden: the best block left is 00:00–02:00 (0.5) vs 03:00–05:00 (0.5)
    # vs 04:00–06:00 (0.5): a tie, broken toward the earliest.
    assert plan["devices"]["washer"]["start"] == "2026-06-01T00:00:00Z"
    most_expensive = washer(policy="SHIFTABLE", optimization_sense="MAX")
    expensive = schedule(
        problem(6, prices=[0.3, 0.2, 0.1, 0.1, 0.4, 0.6], devices=[most_expensive])
    )
    assert expensive["devices"]["washer"]["start"] == "2026-06-01T04:00:00Z"


def test_a_process_that_cannot_fit_is_a_clear_error() -> None:
    late = washer(policy="SHIFTABLE", earliest_start="2026-06-01T03:00:00Z",
                  deadline="2026-06-01T04:00:00Z")  # fmt: skip
    with pytest.raises(ProblemError) as raised:
        schedule(problem(6, prices=0.2, devices=[late]))
    assert raised.value.code == "process_cannot_fit"
    assert raised.value.path == "flex-model[0]"
    assert "needs 2 steps in a row (2 h)" in raised.value.message
    assert "the longest allowed run is 1 steps" in raised.value.message


@pytest.mark.parametrize(
    ("device", "code", "path"),
    [
        ({**HEAT_PUMP, "heats": "pool"}, "unknown_heat_sink", "flex-model[1].heats"),
        ({k: v for k, v in HEAT_PUMP.items() if k != "cop"}, "missing_field", "flex-model[1].cop"),
        ({**HEAT_PUMP, "cop": -2}, "out_of_range", "flex-model[1].cop"),
        (washer(policy="BREAKABLE", profile=[1, 2], power=None), "conflicting_fields",
         "flex-model[1].profile"),
        (washer(policy="SOMETIMES"), "invalid_value", "flex-model[1].policy"),
        (washer(duration="-PT1H"), "invalid_duration", "flex-model[1].duration"),
        (washer(policy="SHIFTABLE", **{"process-type": "BREAKABLE"}), "conflicting_fields",
         "flex-model[1].process-type"),
        (washer(**{"process-type": "LATER"}), "invalid_value", "flex-model[1].process-type"),
    ],
)  # fmt: skip
def test_heating_and_process_input_errors(device: dict[str, Any], code: str, path: str) -> None:
    body = problem(4, prices=0.2, devices=[building(), device])
    with pytest.raises(ProblemError) as raised:
        schedule(body)
    assert (raised.value.code, raised.value.path) == (code, path)


def test_a_building_without_ambient_temperature_is_refused() -> None:
    house = building()
    del house["ambient-temperature"]
    with pytest.raises(ProblemError) as raised:
        schedule(problem(4, prices=0.2, devices=[house, HEAT_PUMP]))
    assert raised.value.path == "flex-model[0].ambient-temperature"


def test_the_coupled_site_solves_jointly_under_one_connection() -> None:
    body = coupled_site(24, 60, on_off=True)
    plan = schedule(body)
    assert plan["status"] in {"optimal", "relaxed"}
    site_import = np.array(plan["site"]["import_kw"])
    assert site_import.max() <= 11 + 1e-6
    total = sum(np.array(d["power_kw"]) for d in plan["devices"].values() if "power_kw" in d)
    context = body["flex-context"]
    balance = (
        total
        + np.array(context["inflexible-consumption"]["values"])
        - np.array(context["inflexible-production"]["values"])
    )
    assert np.array(plan["site"]["net_power_kw"]) == pytest.approx(balance, abs=1e-5)
    assert plan["devices"]["ev"]["soc_kwh"][6] >= 25 - 1e-6
    assert plan["devices"]["washer"]["start"]
    assert plan["solver"]["problem_class"] == "milp"
    assert plan["solver"]["mip_gap"] <= 1e-3


def flexmeasures_washer(**keys: Any) -> dict[str, Any]:
    """A process as FlexMeasures' ProcessScheduler takes it: process-type, not policy."""
    return {"name": "washer", "type": "process", "power": "2 kW", "duration": "PT2H", **keys}


def test_a_flexmeasures_process_flex_model_runs_unchanged() -> None:
    washer_fm = flexmeasures_washer(**{"process-type": "SHIFTABLE", "optimization-sense": "MIN"})
    plan = schedule(problem(6, prices=[0.3, 0.3, 0.1, 0.1, 0.3, 0.3], devices=[washer_fm]))
    assert plan["devices"]["washer"]["power_kw"] == [0, 0, 2, 2, 0, 0]


@pytest.mark.parametrize("process_type", ["INFLEXIBLE", "SHIFTABLE"])
def test_a_run_longer_than_the_plan_runs_in_every_step(process_type: str) -> None:
    long = flexmeasures_washer(duration="PT8H", **{"process-type": process_type})
    plan = schedule(problem(6, prices=0.2, devices=[long]))
    assert plan["devices"]["washer"]["power_kw"] == [2] * 6
    assert any("2 more after the horizon" in note for note in plan["notes"])


def test_a_duration_between_steps_is_rounded_up() -> None:
    odd = flexmeasures_washer(duration="PT3H30M", **{"process-type": "INFLEXIBLE"})
    plan = schedule(problem(6, prices=0.2, devices=[odd]))
    assert plan["devices"]["washer"]["power_kw"] == [2, 2, 2, 2, 0, 0]  # 4 steps, as FlexMeasures
    assert any("rounded up" in note for note in plan["notes"])
