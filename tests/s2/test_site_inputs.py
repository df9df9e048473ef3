"""What an S2 device outside flexems' control adds to its site's problem, from first
principles: its forecast where it has one, its latest measurement elsewhere, W → kW, durations
in ms, negative power as production."""

from __future__ import annotations

from typing import Any

import pytest

from flexems_optimizer import schedule
from flexems_optimizer.s2.devices import S2Device
from flexems_optimizer.s2.site_inputs import with_s2_devices, with_s2_results

from ..optimizer.problems import problem

PHASES = "ELECTRIC.POWER.3_PHASE_SYMMETRIC"


def device(forecast_w: float | None, measured_w: float | None) -> S2Device:
    # One hour from 01:00 (the plan runs 00:00-04:00 in hours).
    forecast = None if forecast_w is None else {
        "message_type": "PowerForecast", "message_id": "f1",
        "start_time": "2026-06-01T01:00:00+00:00",
        "elements": [{"duration": 3_600_000, "power_values": [
            {"commodity_quantity": PHASES, "value_expected": forecast_w},
            {"commodity_quantity": "HEAT.THERMAL_POWER", "value_expected": 9999.0}]}],
    }  # fmt: skip
    measurement = None if measured_w is None else {
        "message_type": "PowerMeasurement", "message_id": "m1",
        "measurement_timestamp": "2026-06-01T00:00:00+00:00",
        "values": [{"commodity_quantity": PHASES, "value": measured_w}],
    }  # fmt: skip
    details: dict[str, Any] = {"available_control_types": ["NOT_CONTROLABLE"], "name": "pv"}
    return S2Device("dev-1", details, "NOT_CONTROLABLE", True, 0.0, measurement, forecast)


def test_forecast_then_measurement_as_load_or_production() -> None:
    site = problem(4, prices=0.3)  # four hours from 2026-06-01T00:00Z, no devices
    with_load = with_s2_devices(site, [device(forecast_w=3000, measured_w=500)])
    plan = schedule(with_load)
    # Heat is no electric power; outside the forecast hour, the latest measurement holds.
    assert plan["site"]["net_power_kw"] == pytest.approx([0.5, 3.0, 0.5, 0.5])
    listed = with_s2_results(plan, [device(forecast_w=3000, measured_w=500)])
    assert listed["devices"]["dev-1"]["power_kw"] == pytest.approx([0.5, 3.0, 0.5, 0.5])
    producing = schedule(with_s2_devices(site, [device(forecast_w=-2000, measured_w=None)]))
    assert producing["site"]["net_power_kw"] == pytest.approx([0.0, -2.0, 0.0, 0.0])


def test_the_site_s_own_load_stays() -> None:
    site = problem(4, prices=0.3, **{"inflexible-consumption": "1 kW"})
    plan = schedule(with_s2_devices(site, [device(forecast_w=1000, measured_w=None)]))
    assert plan["site"]["net_power_kw"] == pytest.approx([1.0, 2.0, 1.0, 1.0])
    assert with_s2_devices(site, []) is site  # no devices: the problem as it is
