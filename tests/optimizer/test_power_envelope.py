"""S2 PEBC devices in the site plan: a PV inverter curtailed at negative prices and at the
export limit, and a load whose energy is deferred or bounded by an energy constraint."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest

from flexems_optimizer.problem.errors import ProblemError
from flexems_optimizer.s2 import examples
from flexems_optimizer.scheduler import schedule

START = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
ELECTRIC = "ELECTRIC.POWER.3_PHASE_SYMMETRIC"


def _problem(prices: list[float], *entries: dict[str, Any], **context: Any) -> dict[str, Any]:
    return {
        "start": START.isoformat(), "duration": "P1D", "resolution": "PT1H",
        "flex-context": {"consumption-price": {"start": START.isoformat(), "resolution": "PT1H",
                                               "values": prices}, **context},
        "flex-model": list(entries),
    }  # fmt: skip


def test_pv_runs_at_its_forecast_when_exporting_pays() -> None:
    plan = schedule(_problem([0.2] * 24, examples.pebc_entry("pv", examples.pv(START))))
    device = plan["devices"]["pv"]
    assert device["power_kw"] == pytest.approx(device["forecast_kw"])
    assert min(device["power_kw"]) == pytest.approx(-6.0 * (1 - 0.5 / 6), abs=1e-6)  # noon
    # No limit needed: the loosest envelope the constraints allow.
    lower = [v for v in device["envelope"]["lower_kw"] if v is not None]
    assert lower == pytest.approx([-6.0] * 24)
    assert device["constraints"] == ["pv-limits"] * 24


def test_pv_is_curtailed_at_negative_prices_and_at_the_export_limit() -> None:
    prices = [0.2] * 11 + [-0.05, -0.05] + [0.2] * 11  # 11:00–13:00 negative
    plan = schedule(_problem(prices, examples.pebc_entry("pv", examples.pv(START)),
                             **{"site-production-capacity": "3 kW"}))  # fmt: skip
    device = plan["devices"]["pv"]
    power = np.array(device["power_kw"])
    forecast = np.array(device["forecast_kw"])
    assert np.all(power[11:13] == 0.0)  # nothing is produced while it costs to export
    assert np.all(power >= -3.0 - 1e-6)  # never more export than the connection allows
    sunny = (forecast < -3.0) & (np.arange(24) != 11) & (np.arange(24) != 12)
    assert sunny.any() and np.allclose(power[sunny], -3.0)
    # The envelope that holds it there: the lower limit raised to the planned power.
    lower = np.array(device["envelope"]["lower_kw"], dtype=float)
    assert np.allclose(lower[sunny], -3.0) and np.allclose(lower[11:13], 0.0)
    assert plan["site"]["export_kw"][12] == 0.0


def _load(
    consequence: str, energy: dict[str, Any] | None = None, raise_to_w: float = 0.0
) -> dict[str, Any]:
    """A 2 kW load from 08:00 to 12:00 whose upper limit may go down to 0 (and its lower limit
    up to `raise_to_w`)."""
    forecast = {"message_id": "f1", "start_time": START.isoformat(), "elements": [
        {"duration": 3_600_000, "power_values": [
            {"commodity_quantity": ELECTRIC, "value_expected": 2000.0 if 8 <= h < 12 else 0.0}]}
        for h in range(24)]}  # fmt: skip
    constraint = {"message_id": "c1", "id": "load-limits", "valid_from": START.isoformat(),
                  "valid_until": START.replace(hour=23).isoformat(),
                  "consequence_type": consequence, "allowed_limit_ranges": [
                      {"commodity_quantity": ELECTRIC, "limit_type": "UPPER_LIMIT",
                       "range_boundary": {"start_of_range": 0.0, "end_of_range": 3000.0},
                       "abnormal_condition_only": False},
                      {"commodity_quantity": ELECTRIC, "limit_type": "LOWER_LIMIT",
                       "range_boundary": {"start_of_range": 0.0, "end_of_range": raise_to_w},
                       "abnormal_condition_only": False}]}  # fmt: skip
    messages: dict[str, Any] = {"power-forecast": forecast, "power-constraints": [constraint]}
    if energy is not None:
        messages["energy-constraints"] = [energy]
    return examples.pebc_entry("load", messages)


def test_a_deferred_load_moves_its_energy_to_cheaper_hours() -> None:
    prices = [0.3] * 14 + [0.1] * 4 + [0.3] * 6  # 14:00–18:00 cheap
    plan = schedule(_problem(prices, _load("DEFER")))
    power = np.array(plan["devices"]["load"]["power_kw"])
    assert power.sum() == pytest.approx(8.0)  # 4 h × 2 kW, all of it
    assert np.all(power[8:12] == 0.0) and power[14:18].sum() == pytest.approx(8.0)
    # Held back by an upper limit of 0 W while it would have run.
    upper = plan["devices"]["load"]["envelope"]["upper_kw"]
    assert upper[8:12] == [0.0] * 4


def test_a_vanishing_load_is_not_cut_and_an_energy_constraint_binds() -> None:
    prices = [0.3] * 24
    plan = schedule(_problem(prices, _load("VANISH")))
    assert plan["devices"]["load"]["power_kw"][8:12] == pytest.approx([2.0] * 4)
    energy = {"message_id": "e1", "id": "at-least", "valid_from": START.isoformat(),
              "valid_until": START.replace(hour=23).isoformat(), "commodity_quantity": ELECTRIC,
              "upper_average_power": 3000.0, "lower_average_power": 500.0}  # fmt: skip
    cheap = [0.3] * 20 + [0.05] * 4
    plan = schedule(_problem(cheap, _load("VANISH", energy, raise_to_w=3000.0)))
    power = np.array(plan["devices"]["load"]["power_kw"])
    assert power[:23].sum() == pytest.approx(0.5 * 23)  # at least 0.5 kW on average
    assert power[20:23].sum() == pytest.approx(11.5 - 8.0)  # the extra: in the cheap hours


def test_a_bad_pebc_entry_says_what_and_where() -> None:
    entry = examples.pebc_entry("pv", examples.pv(START))
    broken = copy.deepcopy(entry)
    del broken["power-forecast"]
    with pytest.raises(ProblemError) as raised:
        schedule(_problem([0.2] * 24, broken))
    assert (raised.value.code, raised.value.path) == ("missing_field",
                                                      "flex-model[0].power-forecast")  # fmt: skip
    broken = copy.deepcopy(entry)
    broken["power-constraints"][0]["consequence_type"] = "EXPLODE"
    with pytest.raises(ProblemError) as raised:
        schedule(_problem([0.2] * 24, broken))
    assert raised.value.path == "flex-model[0].power-constraints[0].consequence_type"
