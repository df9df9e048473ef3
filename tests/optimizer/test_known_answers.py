"""Known answers, worked out by hand from first principles."""

from __future__ import annotations

import math

import pytest

from flexems_optimizer import ProblemError, schedule

from .problems import START, battery, hourly, problem

pytestmark = pytest.mark.filterwarnings("error")


def power(plan: dict, name: str = "battery") -> list[float]:
    return plan["devices"][name]["power_kw"]


def soc(plan: dict, name: str = "battery") -> list[float]:
    return plan["devices"][name]["soc_kwh"]


def test_price_valley_charges_in_the_valley_and_discharges_at_the_peaks() -> None:
    plan = schedule(
        problem(
            6,
            prices=[0.3, 0.1, 0.1, 0.4, 0.4, 0.3],
            devices=[battery(soc_at_start=0, soc_max=4, power_capacity=2)],
        )
    )
    assert plan["status"] == "optimal"
    assert power(plan) == pytest.approx([0, 2, 2, -2, -2, 0], abs=1e-6)
    # SoC exactly at its bounds: full after the valley, empty after the peak.
    assert soc(plan) == pytest.approx([0, 2, 4, 2, 0, 0], abs=1e-6)
    assert plan["costs"]["energy_eur"] == pytest.approx(0.1 * 4 - 0.4 * 4)
    assert plan["solver"]["problem_class"] == "lp"


def test_roundtrip_losses_make_a_small_spread_unprofitable() -> None:
    # 81% round trip: 1 kWh bought at 0.20 returns 0.81 kWh worth 0.178 at 0.22.
    plan = schedule(
        problem(
            2,
            prices=[0.20, 0.22],
            devices=[
                battery(soc_at_start=0, soc_max=5, power_capacity=2, roundtrip_efficiency="81%")
            ],
        )
    )
    assert power(plan) == pytest.approx([0, 0], abs=1e-9)


def test_roundtrip_losses_still_cycle_on_a_large_spread() -> None:
    # 0.81 × 0.20 > 0.10: charge 2 kW (stock +1.8 kWh), sell 1.8 × 0.9 = 1.62 kWh.
    plan = schedule(
        problem(
            2,
            prices=[0.10, 0.20],
            devices=[
                battery(soc_at_start=0, soc_max=5, power_capacity=2, roundtrip_efficiency="81%")
            ],
        )
    )
    assert power(plan) == pytest.approx([2, -1.62], abs=1e-6)
    assert soc(plan) == pytest.approx([1.8, 0], abs=1e-6)


def test_storage_losses_make_selling_early_pay() -> None:
    # Half the stock is lost per hour; discharging at constant d for an hour empties a stock of
    # 4 kWh when 4·e^{-k} = d·(1 − e^{-k})/k with k = ln 2, so d = 4·ln 2 ≈ 2.7726 kW.
    plan = schedule(
        problem(
            2,
            prices=0.2,
            devices=[
                battery(soc_at_start=4, soc_max=4, power_capacity=4, storage_efficiency="50%")
            ],
        )
    )
    assert power(plan) == pytest.approx([-4 * math.log(2), 0], abs=1e-6)
    assert soc(plan) == pytest.approx([0, 0], abs=1e-6)


def test_storage_efficiency_is_rescaled_to_the_plan_step() -> None:
    # 90% retention per hour, planned in 30-minute steps: the idle stock follows 0.9^(t/1h).
    plan = schedule(
        {
            "start": START,
            "duration": "PT2H",
            "resolution": "PT30M",
            "flex-context": {"consumption-price": 0.3, "production-price": 0.0},
            "flex-model": [
                battery(soc_at_start=10, soc_max=10, power_capacity=1, production_capacity=0,
                        storage_efficiency="90%", storage_efficiency_resolution="PT1H")
            ],
        }
    )  # fmt: skip
    # It cannot discharge, and buying costs: the battery stays idle.
    assert power(plan) == pytest.approx([0, 0, 0, 0], abs=1e-9)
    assert soc(plan) == pytest.approx([10 * 0.9 ** (k / 2) for k in range(1, 5)], abs=1e-6)


def test_negative_prices_are_absorbed_without_burning_energy() -> None:
    # At −0.1 EUR/kWh consuming pays. The stock can take only 1 kWh; an LP would charge and
    # discharge at once to consume more, which a real battery cannot: binaries forbid it.
    plan = schedule(
        problem(
            2,
            prices=[-0.1, 0.3],
            devices=[
                battery(soc_at_start=0, soc_max=1, power_capacity=2, roundtrip_efficiency="90%")
            ],
        )
    )
    eta = math.sqrt(0.9)
    assert plan["solver"]["problem_class"] == "milp"
    assert power(plan)[0] == pytest.approx(1 / eta, abs=1e-6)
    assert soc(plan)[0] == pytest.approx(1, abs=1e-6)
    assert power(plan)[1] == pytest.approx(-eta, abs=1e-6)


def test_soc_target_is_reached_in_the_cheapest_steps_before_it() -> None:
    plan = schedule(
        problem(
            4,
            prices=[0.3, 0.1, 0.2, 0.05],
            devices=[
                battery(
                    "ev", soc_at_start=2, soc_max=20, power_capacity=3, production_capacity=0,
                    soc_targets=[{"datetime": "2026-06-01T03:00:00+00:00", "value": "6 kWh"}],
                )
            ],
        )
    )  # fmt: skip
    # 4 kWh needed by 03:00: 3 kW at 0.1, then 1 kW at 0.2; nothing after (no value).
    assert power(plan, "ev") == pytest.approx([0, 3, 1, 0], abs=1e-6)
    assert soc(plan, "ev")[2] == pytest.approx(6)
    (target,) = plan["explanation"]["soc_targets"]
    # One more kWh would be bought at 0.2 EUR/kWh.
    assert target["marginal_value_eur_per_kwh"] == pytest.approx(0.2, abs=1e-6)
    assert any(b["constraint"] == "soc-targets" for b in plan["explanation"]["binding"])


def ev_with_unreachable_target(**context: object) -> dict:
    return problem(
        2,
        prices=0.2,
        devices=[
            battery(
                "ev", soc_at_start=1.5, soc_max=20, power_capacity=3,
                soc_targets=[{"datetime": "2026-06-01T02:00:00+00:00", "value": "9 kWh"}],
            )
        ],
        **context,
    )  # fmt: skip


def test_unreachable_soc_target_is_explained_when_constraints_are_hard() -> None:
    plan = schedule(ev_with_unreachable_target(relax_constraints=False))
    assert plan["status"] == "infeasible"
    (reason,) = plan["infeasible"]
    assert reason["constraint"] == "soc-targets"
    assert reason["device"] == "ev"
    assert reason["possible"] == pytest.approx(7.5)
    assert (
        "soc-target 9 kWh at 2026-06-01T02:00:00Z for ev unreachable: at most 7.5 kWh"
        in (reason["message"])
    )
    # The fallback plan is the closest one: charge flat out.
    assert power(plan, "ev") == pytest.approx([3, 3])


def test_unreachable_soc_target_gives_a_relaxed_plan_listing_the_breach() -> None:
    plan = schedule(ev_with_unreachable_target())
    assert plan["status"] == "relaxed"
    (breach,) = plan["breaches"]
    assert breach["constraint"] == "soc-targets"
    assert breach["amount"] == pytest.approx(1.5)
    # As FlexMeasures: per state missed, and once more for the largest miss.
    assert plan["costs"]["breach_eur"] == pytest.approx(1.5 * 1000 + 1.5 * 1000)


def test_two_evs_share_a_scarce_site_capacity() -> None:
    target = [{"datetime": "2026-06-01T02:00:00+00:00", "value": "8 kWh"}]
    plan = schedule(
        problem(
            2,
            prices=[0.1, 0.3],
            devices=[
                battery("ev1", soc_at_start=0, soc_max=60, power_capacity=11, soc_targets=target),
                battery("ev2", soc_at_start=0, soc_max=60, power_capacity=11, soc_targets=target),
            ],
            site_power_capacity="11 kW",
            relax_constraints=False,
        )
    )
    assert plan["status"] == "optimal"
    assert plan["site"]["import_kw"] == pytest.approx([11, 5], abs=1e-6)
    assert soc(plan, "ev1")[1] == pytest.approx(8) and soc(plan, "ev2")[1] == pytest.approx(8)
    assert plan["costs"]["energy_eur"] == pytest.approx(11 * 0.1 + 5 * 0.3)
    capacity = plan["explanation"]["site_capacity"]["consumption"]
    # One more kW in the cheap hour moves 1 kWh from 0.3 to 0.1 EUR/kWh.
    assert capacity["marginal_value_eur_per_kw"] == pytest.approx(0.2, abs=1e-6)
    for target_value in plan["explanation"]["soc_targets"]:
        assert target_value["marginal_value_eur_per_kwh"] == pytest.approx(0.3, abs=1e-6)


def test_soft_export_limit_is_breached_as_little_as_pays() -> None:
    # 6 kW of PV against a 4 kW export limit; the battery can take 2 kWh over two hours.
    # Spreading it (1 kW each hour) leaves 1 kW of breach per hour: 1·(1 + 1) per-step + 1 max.
    plan = schedule(
        problem(
            2,
            prices=0.3,
            production_price=0.0,
            devices=[battery(soc_at_start=0, soc_max=2, power_capacity=2)],
            inflexible_production=hourly([6, 6]),
            site_production_capacity="4 kW",
            site_production_breach_price="1 EUR/kW",
        )
    )
    assert plan["status"] == "relaxed"
    assert power(plan) == pytest.approx([1, 1], abs=1e-6)
    assert plan["costs"]["breach_eur"] == pytest.approx(3.0, abs=1e-6)
    assert [b["amount"] for b in plan["breaches"]] == pytest.approx([1, 1], abs=1e-6)
    assert {b["constraint"] for b in plan["breaches"]} == {"site-production-capacity"}


def test_peak_price_flattens_the_import_profile() -> None:
    plan = schedule(
        problem(
            4,
            prices=0.2,
            devices=[battery(soc_at_start=3, soc_max=6, power_capacity=3)],
            inflexible_consumption=hourly([2, 8, 2, 8]),
            site_peak_consumption_price="10 EUR/kW",
        )
    )
    # Without the battery the peak is 8 kW; the battery shaves both peaks to 5 kW and, as its
    # stock has no value at the end, also sells its 3 kWh: 17 kWh imported in all.
    assert plan["site"]["import_kw"] == pytest.approx([5, 5, 2, 5], abs=1e-6)
    assert plan["costs"]["peak_eur"] == pytest.approx(50)
    assert plan["costs"]["energy_eur"] == pytest.approx(0.2 * 17)
    assert any(b["constraint"] == "site-peak-consumption" for b in plan["explanation"]["binding"])


def test_pv_surplus_is_stored_rather_than_sold_cheaply() -> None:
    plan = schedule(
        problem(
            4,
            prices=0.3,
            production_price="50 EUR/MWh",
            devices=[battery(soc_at_start=0, soc_max=6, power_capacity=3)],
            inflexible_consumption=hourly([1, 1, 3, 3]),
            inflexible_production=hourly([4, 4, 0, 0]),
        )
    )
    assert power(plan) == pytest.approx([3, 3, -3, -3], abs=1e-6)
    assert plan["site"]["net_power_kw"] == pytest.approx([0, 0, 0, 0], abs=1e-6)
    assert plan["costs"]["energy_eur"] == pytest.approx(0)
    # Without the battery: 6 kWh sold at 0.05, 6 kWh bought at 0.30.
    assert plan["costs"]["baseline_energy_eur"] == pytest.approx(1.5)
    assert plan["costs"]["savings_eur"] == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("start", "end", "seven_local", "steps", "target_state"),
    [
        # Spring forward at 02:00: 07:00 is at +02:00, 6 hours after midnight (+01:00).
        ("2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", "2026-03-29T07:00:00+02:00",
         23, 5),
        # Fall back at 03:00: 07:00 is at +01:00, 8 hours after midnight (+02:00).
        ("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", "2026-10-25T07:00:00+01:00",
         25, 7),
    ],
)  # fmt: skip
def test_dst_days_have_23_and_25_hourly_steps(
    start: str, end: str, seven_local: str, steps: int, target_state: int
) -> None:
    prices = [{"start": start, "end": end, "value": 0.2}]
    plan = schedule(
        {
            "start": start,
            "end": end,
            "resolution": "PT1H",
            "flex-context": {"consumption-price": prices},
            "flex-model": [
                battery(
                    soc_at_start=0, soc_max=10, power_capacity=1,
                    soc_targets=[{"datetime": seven_local, "value": 1}],
                )
            ],
        }
    )  # fmt: skip
    assert len(plan["timestamps"]) == steps
    assert plan["timestamps"][0].endswith("Z")
    assert soc(plan)[target_state] == pytest.approx(1)
    # Prefer charging sooner: the 1 kWh is charged in the first step of the day.
    assert power(plan)[0] == pytest.approx(1)


def test_co2_objective_charges_when_the_grid_is_cleanest() -> None:
    plan = schedule(
        {
            "start": START,
            "duration": "PT3H",
            "resolution": "PT1H",
            "objective": "co2",
            "flex-context": {
                "consumption-price": hourly([0.1, 0.5, 0.2]),
                "co2-intensity": hourly([500, 100, 400], unit="g/kWh"),
            },
            "flex-model": [
                battery(
                    "ev", soc_at_start=0, soc_max=10, power_capacity=2,
                    soc_targets=[{"datetime": "2026-06-01T03:00:00+00:00", "value": 2}],
                )
            ],
        }
    )  # fmt: skip
    assert power(plan, "ev") == pytest.approx([0, 2, 0], abs=1e-6)
    assert plan["costs"]["co2_kg"] == pytest.approx(0.2)
    assert plan["costs"]["energy_eur"] == pytest.approx(1.0)


def test_prefer_charging_sooner_breaks_ties_toward_early_steps() -> None:
    ev = battery(
        "ev", soc_at_start=0, soc_max=10, power_capacity=2,
        soc_targets=[{"datetime": "2026-06-01T04:00:00+00:00", "value": 4}],
    )  # fmt: skip
    assert power(schedule(problem(4, prices=0.2, devices=[ev])), "ev") == pytest.approx(
        [2, 2, 0, 0], abs=1e-6
    )


def test_availability_windows_keep_an_ev_idle_while_away() -> None:
    ev = battery(
        "ev", soc_at_start=0, soc_max=10, power_capacity=4,
        availability=[{"start": "2026-06-01T02:00:00+00:00", "end": "2026-06-01T04:00:00+00:00"}],
        soc_targets=[{"datetime": "2026-06-01T04:00:00+00:00", "value": 6}],
    )  # fmt: skip
    plan = schedule(problem(4, prices=[0.1, 0.1, 0.3, 0.3], devices=[ev]))
    assert power(plan, "ev") == pytest.approx([0, 0, 4, 2], abs=1e-6)


def test_soc_usage_drains_a_buffer_that_must_stay_above_its_minimum() -> None:
    # A hot-water buffer (as energy): 1 kWh tapped per hour, kept at ≥ 2 kWh.
    boiler = battery(
        "boiler", soc_at_start=3, soc_min=2, soc_max=5, power_capacity=3,
        production_capacity=0, soc_usage="1 kW",
    )  # fmt: skip
    plan = schedule(problem(4, prices=[0.3, 0.1, 0.3, 0.3], devices=[boiler]))
    # Must add 3 kWh by the end (4 used, 1 spare); cheapest: 3 kW in the 0.1 hour.
    assert power(plan, "boiler") == pytest.approx([0, 3, 0, 0], abs=1e-6)
    assert soc(plan, "boiler") == pytest.approx([2, 4, 3, 2], abs=1e-6)
    # Baseline without flexibility: the 3 kWh it needs, charged as soon as possible (at 0.3).
    assert plan["costs"]["baseline_energy_eur"] == pytest.approx(0.3 * 3)


def test_site_capacity_that_cannot_hold_the_inflexible_load_is_explained() -> None:
    plan = schedule(
        problem(
            2,
            prices=0.2,
            inflexible_consumption=hourly([7, 3]),
            site_power_capacity="5 kW",
            relax_constraints=False,
        )
    )
    assert plan["status"] == "infeasible"
    (reason,) = plan["infeasible"]
    assert reason["constraint"] == "site-power-capacity"
    assert reason["message"].startswith(
        "site-power-capacity 5 kW exceeded at 2026-06-01T00:00:00Z: 7 kW needed"
    )


def test_mixed_units_and_series_forms_give_the_same_plan() -> None:
    base = problem(
        4, prices=[0.1, 0.2, 0.3, 0.4],
        devices=[battery(soc_at_start=0, soc_max=4, power_capacity=2)],
    )  # fmt: skip
    variant = problem(
        4,
        prices=0.0,
        devices=[battery(soc_at_start="0 Wh", soc_max="0.004 MWh", power_capacity="2000 W")],
    )
    variant["flex-context"]["consumption-price"] = [
        {"start": "2026-06-01T00:00:00Z", "duration": "PT2H", "value": "10 ct/kWh"},
        {"start": "2026-06-01T01:00:00Z", "end": "2026-06-01T03:00:00Z", "value": 0},
    ]
    with pytest.raises(Exception, match="overlaps"):
        schedule(variant)
    variant["flex-context"]["consumption-price"] = {
        "start": "2026-06-01T00:00:00Z",
        "resolution": "PT30M",
        "values": [100, 100, 200, 200, 300, 300, 400, 400],
        "unit": "EUR/MWh",
    }
    assert power(schedule(variant)) == pytest.approx(power(schedule(base)), abs=1e-9)


def test_marginal_values_of_a_milp_come_from_its_lp_with_binaries_fixed() -> None:
    # At −0.1 EUR/kWh an LP would charge and discharge at once to consume more than the 1 kWh
    # the battery can hold, so binaries are needed: a MILP. The target holds 0.5 kWh back after
    # step 1; each kWh more kept would be sold at 0.5 instead of 0.3 (0.9 of it reaching the
    # grid), saving 0.18 EUR: the target's marginal value is −0.18 EUR/kWh.
    plan = schedule(
        problem(
            3,
            prices=[-0.1, 0.3, 0.5],
            devices=[
                battery(
                    soc_at_start=0, soc_max=1, power_capacity=2, roundtrip_efficiency="81%",
                    soc_targets=[{"datetime": "2026-06-01T02:00:00+00:00", "value": 0.5}],
                )
            ],
        )
    )  # fmt: skip
    assert plan["solver"]["problem_class"] == "milp"
    assert soc(plan) == pytest.approx([1, 0.5, 0], abs=1e-6)
    assert power(plan) == pytest.approx([1 / 0.9, -0.45, -0.45], abs=1e-6)
    (target,) = plan["explanation"]["soc_targets"]
    assert target["marginal_value_eur_per_kwh"] == pytest.approx(-0.18, abs=1e-6)


def test_self_consumption_objective_minimises_imports_whatever_the_price() -> None:
    plan = schedule(
        {
            "start": START,
            "duration": "PT3H",
            "resolution": "PT1H",
            "objective": "self-consumption",
            "flex-context": {
                "consumption-price": hourly([0.1, 0.1, 0.5]),
                "inflexible-consumption": hourly([0, 0, 2]),
                "inflexible-production": hourly([2, 0, 0]),
            },
            "flex-model": [battery(soc_at_start=0, soc_max=5, power_capacity=2)],
        }
    )
    # Store the PV surplus and use it in the evening: nothing imported.
    assert plan["site"]["import_kw"] == pytest.approx([0, 0, 0], abs=1e-6)
    assert power(plan) == pytest.approx([2, 0, -2], abs=1e-6)


def _ev(**keys: object) -> dict[str, object]:
    """An EV that needs 3 kWh by 07:00 over 8 quarter-hour-priced hours (cheapest 04:00)."""
    return {
        "start": "2026-06-01T00:00:00+00:00", "end": "2026-06-01T08:00:00+00:00",
        "resolution": "PT15M",
        "flex-context": {"consumption-price": {
            "start": "2026-06-01T00:00:00+00:00", "resolution": "PT1H",
            "values": [0.3, 0.1, 0.12, 0.2, 0.05, 0.3, 0.25, 0.4]}},
        "flex-model": [{
            "name": "EV", "type": "storage", "soc-at-start": "10 kWh", "soc-max": "60 kWh",
            "power-capacity": "11 kW", "production-capacity": "0 kW",
            "soc-minima": [{"datetime": "2026-06-01T07:00:00+00:00", "value": "13 kWh"}],
            **keys}],
    }  # fmt: skip


def test_an_ev_with_a_minimum_power_charges_at_or_above_it() -> None:
    modulating = schedule(_ev())["devices"]["EV"]["power_kw"]
    assert min(p for p in modulating if p > 0) < 4.14  # without it: any power
    plan = schedule(_ev(**{"min-power": "4.14 kW"}))
    power = plan["devices"]["EV"]["power_kw"]
    assert plan["status"] == "optimal" and plan["solver"]["problem_class"] == "milp"
    assert all(p == 0 or p >= 4.14 - 1e-6 for p in power)
    assert sum(power) * 0.25 == pytest.approx(3.0)
    # All in the cheapest hour (04:00–05:00): 12 kW·quarter-hours fit as 7.86 + 4.14.
    assert all(p == 0 for i, p in enumerate(power) if not 16 <= i < 20)


def test_an_ev_behind_a_switch_charges_at_full_power_or_not() -> None:
    plan = schedule(_ev(**{"on-off": True}))
    power = plan["devices"]["EV"]["power_kw"]
    assert set(power) <= {0.0, 11.0}
    assert power.count(11.0) == 2  # one step gives 2.75 kWh: two are needed for 3 kWh
    assert plan["status"] == "optimal"  # "at least" 13 kWh: ending at 15.5 kWh is fine
    assert all(p == 0 for i, p in enumerate(power) if not 16 <= i < 20)


@pytest.mark.parametrize(
    ("keys", "code", "path"),
    [
        ({"min-power": "2 kW", "on-off": True}, "conflicting_fields", "flex-model[0].on-off"),
        ({"min-power": "-2 kW"}, "negative_value", "flex-model[0].min-power"),
    ],
)
def test_charging_minimum_bad_input(keys: dict[str, object], code: str, path: str) -> None:
    with pytest.raises(ProblemError) as raised:
        schedule(_ev(**keys))
    assert (raised.value.code, raised.value.path) == (code, path)
