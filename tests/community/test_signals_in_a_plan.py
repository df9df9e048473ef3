"""A member's plan with a community's signals: the price steers but is not paid, the share
holds (soft, on net power, negative allowed), and the plan reports the share's marginal value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from flexems_optimizer import ProblemError, schedule

START = "2026-06-01T00:00:00+00:00"


def battery_home(**context: Any) -> dict[str, Any]:
    """Four hours, a flat household load of 1 kW, a 4 kWh battery that must end full."""
    return {
        "start": START,
        "duration": "PT4H",
        "resolution": "PT1H",
        "flex-context": {
            "consumption-price": {"start": START, "resolution": "PT1H",
                                  "values": [0.10, 0.20, 0.30, 0.40], "unit": "EUR/kWh"},
            "production-price": "0 EUR/kWh",
            "inflexible-consumption": "1 kW",
            **context,
        },
        "flex-model": [{"name": "battery", "soc-at-start": "0 kWh", "soc-max": "4 kWh",
                        "power-capacity": "4 kW",
                        "soc-targets": [{"datetime": "2026-06-01T04:00:00+00:00",
                                         "value": "4 kWh"}]}],
    }  # fmt: skip


def hourly(values: list[float | None], unit: str) -> dict[str, Any]:
    return {"start": START, "resolution": "PT1H", "values": values, "unit": unit}


def test_without_signals_the_battery_charges_in_the_cheapest_hour() -> None:
    plan = schedule(battery_home())
    assert plan["devices"]["battery"]["power_kw"] == [4.0, 0.0, 0.0, 0.0]
    assert "community" not in plan


def test_a_community_price_moves_the_plan_but_is_not_paid() -> None:
    plan = schedule(battery_home(**{"community-price": hourly([0.5, 0, 0, 0], "EUR/kWh")}))
    assert plan["devices"]["battery"]["power_kw"] == [0.0, 4.0, 0.0, 0.0]
    # Energy at the home's own prices: 1 kWh at 0.10, 5 at 0.20, 1 at 0.30 and 1 at 0.40.
    assert plan["costs"]["energy_eur"] == pytest.approx(0.1 + 1.0 + 0.3 + 0.4)
    assert plan["community"]["signal_eur"] == pytest.approx(0.5 * 1.0)


def test_a_share_holds_on_net_power_and_reports_its_marginal_value() -> None:
    share = hourly([2.0, None, None, None], "kW")
    plan = schedule(battery_home(**{"community-consumption-capacity": share}))
    power = plan["devices"]["battery"]["power_kw"]
    assert power[0] == pytest.approx(1.0)  # 1 kW of load + 1 kW of charging = the share
    assert power[1] == pytest.approx(3.0)
    values = plan["community"]["consumption_marginal_value_eur_per_kw"]
    # One more kW in the first hour would move 1 kWh from 0.20 to 0.10 EUR/kWh.
    assert values == pytest.approx([0.1, 0.0, 0.0, 0.0])
    assert plan["community"]["over_share_kwh"] == 0.0
    assert plan["status"] == "optimal"


def test_a_share_the_home_cannot_keep_is_breached_never_its_own_target() -> None:
    share = hourly([0.5, 0.5, 0.5, 0.5], "kW")  # less than the inflexible load
    plan = schedule(battery_home(**{"community-consumption-capacity": share}))
    assert plan["devices"]["battery"]["soc_kwh"][-1] == pytest.approx(4.0)
    assert plan["community"]["over_share_kwh"] == pytest.approx(4 * 0.5 + 4.0)
    assert plan["costs"]["breach_eur"] == 0.0  # the home's own constraints all hold


def test_a_negative_share_asks_the_home_to_export() -> None:
    context = {
        "inflexible-consumption": "0 kW",
        "community-consumption-capacity": hourly([None, None, None, -2.0], "kW"),
    }
    body = battery_home(**context)
    body["flex-model"][0]["soc-targets"] = []
    body["flex-model"][0]["soc-at-start"] = "4 kWh"
    plan = schedule(body)
    assert plan["site"]["net_power_kw"][3] == pytest.approx(-2.0)


@pytest.mark.parametrize(
    ("key", "value", "path"),
    [
        ("community-price", "cheap", "flex-context.community-price"),
        ("community-consumption-capacity", {"start": START},
         "flex-context.community-consumption-capacity.resolution"),
        ("community-production-capacity", "3 EUR", "flex-context.community-production-capacity"),
    ],
)  # fmt: skip
def test_bad_signals_are_refused_with_their_path(key: str, value: object, path: str) -> None:
    with pytest.raises(ProblemError) as caught:
        schedule(battery_home(**{key: value}))
    assert caught.value.path == path


def test_a_price_past_the_hosts_horizon_counts_as_zero() -> None:
    price = {"start": START, "resolution": "PT1H", "values": [0.5], "unit": "EUR/kWh"}
    plan = schedule(battery_home(**{"community-price": price}))
    assert plan["devices"]["battery"]["power_kw"] == [0.0, 4.0, 0.0, 0.0]
    assert np.isfinite(plan["costs"]["total_eur"])
