"""S2 FRBC devices in the site plan: operation modes, elements, transitions, timers, leakage,
usage and targets, as the RMs describe them (flexems_optimizer/s2/examples.py)."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from flexems_optimizer.problem.errors import ProblemError
from flexems_optimizer.s2 import examples
from flexems_optimizer.scheduler import schedule

START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
QUARTER = timedelta(minutes=15)
# Cheap at night and at midday, dear in the morning and the evening (EUR/kWh per hour).
PRICES = [0.20 + 0.10 * (7 <= h < 10 or 17 <= h < 21) - 0.08 * (h < 5 or 12 <= h < 15)
          for h in range(24)]  # fmt: skip


def _problem(*entries: dict[str, Any], **context: Any) -> dict[str, Any]:
    return {
        "start": START.isoformat(), "duration": "P1D", "resolution": "PT15M",
        "flex-context": {"consumption-price": {"start": START.isoformat(), "resolution": "PT1H",
                                               "values": PRICES}, **context},
        "flex-model": list(entries),
    }  # fmt: skip


def _runs(modes: list[str], on: str) -> list[tuple[int, int]]:
    """(first step, length) of each stretch in mode `on`."""
    found, start = [], None
    for step, mode in enumerate([*modes, None]):
        if mode == on and start is None:
            start = step
        elif mode != on and start is not None:
            found.append((start, step - start))
            start = None
    return found


def _step_prices() -> np.ndarray:
    return np.repeat(PRICES, 4)


def test_the_heat_pump_heats_in_whole_runs_in_cheap_hours_within_its_buffer() -> None:
    plan = schedule(_problem(examples.frbc_entry("hp", examples.heat_pump(START))))
    device = plan["devices"]["hp"]
    modes = device["actuators"]["hp0"]["operation_mode"]
    assert plan["status"] == "optimal" and plan["breaches"] == []
    runs = _runs(modes, "om0")
    assert runs, "the buffer needs heat within the day"
    for first, length in runs:
        # Two hours at least (8 steps), unless the horizon cuts the run.
        assert length >= 8 or first + length == len(modes), runs
    pauses = _runs(modes, "om1")
    for first, length in pauses:
        if first > 0 and first + length < len(modes):
            assert length >= 4, pauses  # one hour off at least between runs
    level = np.array(device["fill_level"])
    assert level.min() >= 45.0 - 1e-6 and level.max() <= 55.0 + 1e-6
    assert device["fill_level_label"] == "°C"
    power = np.array(device["power_kw"])
    running = np.array([mode == "om0" for mode in modes])
    assert np.all(power[running] >= 0.5 - 1e-6) and np.all(power[running] <= 2.0 + 1e-6)
    assert np.all(power[~running] == 0.0)
    assert _step_prices()[running].mean() < _step_prices().mean() - 0.05
    # Factor and power agree: P = 500 W + 1500 W · factor.
    factors = np.array(device["actuators"]["hp0"]["factor"])
    assert np.allclose(power[running], 0.5 + 1.5 * factors[running], atol=1e-5)


def test_a_run_begun_before_the_plan_keeps_running_until_its_timer_ends() -> None:
    # Nearly full: it would stop at once, but its minimum run ends only after 45 minutes.
    running = examples.heat_pump(
        START, active="running", fill_level=54.0, timers_finish={"min-run": START + 3 * QUARTER}
    )
    modes = schedule(_problem(examples.frbc_entry("hp", running)))["devices"]["hp"]
    assert modes["actuators"]["hp0"]["operation_mode"][:4] == ["om0"] * 3 + ["om1"]
    free = examples.heat_pump(START, active="running", fill_level=54.0)
    free["timer-statuses"] = []
    modes = schedule(_problem(examples.frbc_entry("hp", free)))["devices"]["hp"]
    assert modes["actuators"]["hp0"]["operation_mode"][0] == "om1"


def test_a_pause_begun_before_the_plan_holds_although_the_buffer_is_low() -> None:
    paused = examples.heat_pump(
        START, active="off", fill_level=45.2, timers_finish={"min-off": START + 2 * QUARTER}
    )
    plan = schedule(_problem(examples.frbc_entry("hp", paused)))
    modes = plan["devices"]["hp"]["actuators"]["hp0"]["operation_mode"]
    assert modes[:3] == ["om1", "om1", "om0"]  # it heats as soon as the pause may end


def test_a_battery_charges_cheap_and_discharges_dear_with_signed_power() -> None:
    plan = schedule(_problem(examples.frbc_entry("battery", examples.battery(START)),
                             **{"inflexible-consumption": "1 kW"}))  # fmt: skip
    device = plan["devices"]["battery"]
    modes = device["actuators"]["inverter"]["operation_mode"]
    power = np.array(device["power_kw"])
    prices = _step_prices()
    charging = np.array([m == "charge" for m in modes])
    discharging = np.array([m == "discharge" for m in modes])
    assert charging.any() and discharging.any()
    assert prices[charging].max() < prices[discharging].min()
    assert np.all(power[charging] > 0) and np.all(power[discharging] < 0)
    level = np.array(device["fill_level"])
    assert level.min() >= 5.0 - 1e-6 and level.max() <= 100.0 + 1e-6
    # 95 % efficient both ways: each kWh in raises 0.95 / 10 kWh · 100 %.
    step = 0.25
    change = np.diff(np.concatenate(([50.0], level)))
    expected = np.where(power > 0, power * 0.95, power / 0.95) * step * 10.0
    assert np.allclose(change, expected, atol=1e-4)


def test_an_ev_meets_its_fill_level_target_in_the_cheapest_hours() -> None:
    ready = START + timedelta(hours=7)
    plan = schedule(_problem(examples.frbc_entry("ev", examples.ev(START, ready_at=ready))))
    device = plan["devices"]["ev"]
    level = np.array(device["fill_level"])
    assert level[27] >= 80.0 - 1e-6  # the state at 07:00 (end of step 27)
    power = np.array(device["power_kw"])
    assert power[:28].sum() * 0.25 * 0.9 / 60 * 100 == pytest.approx(50.0, abs=1e-3)
    assert np.all(power[20:28] == 0.0)  # 05:00–07:00 is dearer than the night before
    assert plan["breaches"] == []


def test_a_target_out_of_reach_is_a_breach_not_a_failure() -> None:
    ready = START + timedelta(hours=1)
    plan = schedule(_problem(examples.frbc_entry("ev", examples.ev(START, ready_at=ready))))
    assert plan["status"] == "relaxed"
    assert {b["constraint"] for b in plan["breaches"]} == {"fill-level-min"}
    assert np.all(np.array(plan["devices"]["ev"]["power_kw"][:4]) == pytest.approx(11.0))


def _three_modes(allowed: list[tuple[str, str]], active: str) -> dict[str, Any]:
    """A battery whose inverter may only change modes along `allowed`."""
    messages = copy.deepcopy(examples.battery(START))
    actuator = messages["system-description"]["actuators"][0]
    actuator["transitions"] = [
        {"id": f"{a}-{b}", "from": a, "to": b, "start_timers": [], "blocking_timers": [],
         "abnormal_condition_only": False}
        for a, b in allowed
    ]  # fmt: skip
    messages["actuator-statuses"][0]["active_operation_mode_id"] = active
    return examples.frbc_entry("battery", messages)


def test_modes_change_only_along_listed_transitions() -> None:
    # From charging to discharging only through idle: never charge then discharge next step.
    allowed = [("charge", "idle"), ("idle", "charge"), ("idle", "discharge"),
               ("discharge", "idle")]  # fmt: skip
    plan = schedule(_problem(_three_modes(allowed, "discharge")))
    modes = ["discharge", *plan["devices"]["battery"]["actuators"]["inverter"]["operation_mode"]]
    pairs = set(itertools.pairwise(modes))
    assert ("charge", "discharge") not in pairs and ("discharge", "charge") not in pairs
    assert modes[1] in ("discharge", "idle")
    # No transitions at all: the inverter stays in the mode it is in.
    stuck = schedule(_problem(_three_modes([], "idle")))
    assert set(stuck["devices"]["battery"]["actuators"]["inverter"]["operation_mode"]) == {"idle"}


def test_an_element_applies_only_within_its_fill_level_range() -> None:
    # Above 80 % the battery charges at 1 kW at most (a CV phase), below it at up to 3.7 kW.
    messages = copy.deepcopy(examples.battery(START, fill_level=70.0))
    charge = messages["system-description"]["actuators"][0]["operation_modes"][0]
    fast, slow = charge["elements"][0], copy.deepcopy(charge["elements"][0])
    fast["fill_level_range"] = {"start_of_range": 5.0, "end_of_range": 80.0}
    slow["fill_level_range"] = {"start_of_range": 80.0, "end_of_range": 100.0}
    slow["power_ranges"][0]["end_of_range"] = 1000.0
    slow["fill_rate"]["end_of_range"] = 1.0 * 0.95 * 100.0 / 10.0 / 3600.0
    charge["elements"] = [fast, slow]
    plan = schedule(_problem(examples.frbc_entry("battery", messages)))
    device = plan["devices"]["battery"]
    level_before = np.concatenate(([70.0], device["fill_level"][:-1]))
    power = np.array(device["power_kw"])
    above = level_before > 80.0 + 1e-6
    assert above.any() and power.max() > 1.0 + 1e-6
    assert np.all(power[above] <= 1.0 + 1e-6)


def test_s2_devices_share_the_site_connection_with_the_other_assets() -> None:
    ready = START + timedelta(hours=7)
    own_battery = {"name": "battery", "soc-at-start": 5.0, "soc-min": 0.0, "soc-max": 10.0,
                   "power-capacity": "5 kW",
                   "soc-targets": [{"datetime": ready.isoformat(), "value": 10.0}]}  # fmt: skip
    plan = schedule(_problem(
        own_battery,
        examples.frbc_entry("ev", examples.ev(START, ready_at=ready)),
        examples.frbc_entry("hp", examples.heat_pump(START)),
        **{"site-power-capacity": "9 kW"},
    ))  # fmt: skip
    assert plan["status"] == "optimal"
    total = sum(np.array(d["power_kw"]) for d in plan["devices"].values())
    assert np.allclose(total, plan["site"]["net_power_kw"], atol=1e-5)
    assert max(plan["site"]["net_power_kw"]) <= 9.0 + 1e-6


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (
            lambda e: e.pop("system-description"),
            "missing_field",
            "flex-model[0].system-description",
        ),
        (
            lambda e: e["storage-status"].pop("present_fill_level"),
            "invalid_s2_message",
            "flex-model[0].storage-status.present_fill_level",
        ),
        (
            lambda e: e["system-description"]["actuators"][0]["timers"][0].update(duration=-1),
            "invalid_s2_message",
            "flex-model[0].system-description.actuators.0.timers.0.duration",
        ),
        (lambda e: e.update({"fill-level": 3}), "unknown_field", "flex-model[0].fill-level"),
    ],
)
def test_a_bad_frbc_entry_says_what_and_where(change: Any, code: str, path: str) -> None:
    entry = examples.frbc_entry("hp", examples.heat_pump(START))
    change(entry)
    with pytest.raises(ProblemError) as raised:
        schedule(_problem(entry))
    assert (raised.value.code, raised.value.path) == (code, path)


def _with_heating_element(messages: dict[str, Any]) -> dict[str, Any]:
    """The heat pump's buffer with a second actuator: a 3 kW heating element (COP 1) that may
    switch freely, and an emergency mode only for abnormal conditions."""
    heated = copy.deepcopy(messages)
    description = heated["system-description"]
    rate = 3.0 / 0.465 / 3600  # 3 kW into 400 L (0.465 kWh/K): K per second
    element = {
        "id": "rod", "supported_commodities": ["ELECTRICITY"],
        "operation_modes": [
            {"id": "rod-on", "elements": [{"fill_level_range": {"start_of_range": 0,
             "end_of_range": 100}, "fill_rate": {"start_of_range": rate, "end_of_range": rate},
             "power_ranges": [{"start_of_range": 3000, "end_of_range": 3000,
                               "commodity_quantity": "ELECTRIC.POWER.L1"}]}],
             "abnormal_condition_only": False},
            {"id": "rod-off", "elements": [{"fill_level_range": {"start_of_range": 0,
             "end_of_range": 100}, "fill_rate": {"start_of_range": 0, "end_of_range": 0},
             "power_ranges": [{"start_of_range": 0, "end_of_range": 0,
                               "commodity_quantity": "ELECTRIC.POWER.L1"}]}],
             "abnormal_condition_only": False},
            {"id": "rod-boost", "elements": [{"fill_level_range": {"start_of_range": 0,
             "end_of_range": 100}, "fill_rate": {"start_of_range": 3 * rate,
             "end_of_range": 3 * rate}, "power_ranges": [{"start_of_range": 0,
             "end_of_range": 0, "commodity_quantity": "ELECTRIC.POWER.L1"}]}],
             "abnormal_condition_only": True},  # free heat: only if it were allowed
        ],
        "transitions": [
            {"id": "rod-up", "from": "rod-off", "to": "rod-on", "start_timers": [],
             "blocking_timers": [], "abnormal_condition_only": False},
            {"id": "rod-down", "from": "rod-on", "to": "rod-off", "start_timers": [],
             "blocking_timers": [], "abnormal_condition_only": False},
            {"id": "rod-panic", "from": "rod-off", "to": "rod-boost", "start_timers": [],
             "blocking_timers": [], "abnormal_condition_only": True},
        ],
        "timers": [],
    }  # fmt: skip
    description["actuators"].append(element)
    heated["actuator-statuses"].append({"message_id": "rod-status", "actuator_id": "rod",
                                        "active_operation_mode_id": "rod-off",
                                        "operation_mode_factor": 0.0})  # fmt: skip
    return heated


def test_two_actuators_fill_one_storage_and_abnormal_modes_stay_out() -> None:
    # Far below its range: the heat pump alone (2 kW at most) cannot catch up soon enough, so
    # the heating element helps; the free "boost" is for abnormal conditions only.
    messages = _with_heating_element(examples.heat_pump(START, fill_level=38.0))
    plan = schedule(_problem(examples.frbc_entry("hp", messages)))
    device = plan["devices"]["hp"]
    rod = device["actuators"]["rod"]["operation_mode"]
    pump = device["actuators"]["hp0"]["operation_mode"]
    assert "rod-boost" not in rod and "rod-on" in rod
    assert pump[0] == "om0"
    power = np.array(device["power_kw"])
    both = np.array([r == "rod-on" for r in rod])
    assert np.all(power[both] >= 3.0 + 0.5 - 1e-6)  # the element's 3 kW and the pump's own
    # Both heat in the first quarter hour: 1.6 K from the element, at least 0.9 K from the pump.
    assert rod[0] == "rod-on" and device["fill_level"][0] - 38.0 > 2.0


def test_transition_and_running_costs_make_fewer_and_shorter_runs() -> None:
    free = schedule(_problem(examples.frbc_entry("battery", examples.battery(START))))
    costly = examples.battery(START)
    actuator = costly["system-description"]["actuators"][0]
    for transition in actuator["transitions"]:
        transition["transition_costs"] = 0.5  # EUR per change of mode
    charge = actuator["operation_modes"][0]["elements"][0]
    charge["running_costs"] = {"start_of_range": 0.0001, "end_of_range": 0.0001}  # EUR/s
    paid = schedule(_problem(examples.frbc_entry("battery", costly)))

    def changes(plan: dict[str, Any]) -> int:
        modes = ["idle", *plan["devices"]["battery"]["actuators"]["inverter"]["operation_mode"]]
        return sum(a != b for a, b in itertools.pairwise(modes))

    def charging_steps(plan: dict[str, Any]) -> int:
        modes = plan["devices"]["battery"]["actuators"]["inverter"]["operation_mode"]
        return modes.count("charge")

    assert changes(paid) < changes(free)
    assert charging_steps(paid) <= charging_steps(free)
    # The plan's cost still counts energy only: the device's own costs are the RM's.
    assert paid["costs"]["energy_eur"] >= free["costs"]["energy_eur"] - 1e-9
