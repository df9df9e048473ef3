"""Each kind of breach gets its own repair text; the site's limits have no asset."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from custom_components.flexems.breaches import _translation_key, async_update_issues, summarize
from custom_components.flexems.const import DOMAIN


def breach(constraint: str, device: str | None, unit: str = "kWh") -> dict[str, object]:
    return {"constraint": constraint, "device": device, "at": "2026-06-01T07:00:00+00:00",
            "amount": 1.0, "unit": unit, "limit": 5.0, "value": 6.0}  # fmt: skip


@pytest.mark.parametrize(
    ("found", "key", "unit"),
    [
        (breach("soc-targets", "battery"), "breach_target", "%"),
        (breach("soc-minima", "car"), "breach_target", "%"),  # an EV's departure target
        (breach("soc-minima", "battery"), "breach_minimum", "%"),
        (breach("comfort-max", "house", "K"), "breach_maximum", "°C"),
        (breach("comfort-min", "house", "K"), "breach_minimum", "°C"),
        # A hot-water buffer's "at least 55 °C at 07:00".
        (breach("comfort-min", "boiler buffer", "K"), "breach_target", "°C"),
        (breach("consumption-capacity", "battery", "kW"), "breach_power", "kW"),
        (breach("site-power-capacity", None, "kW"), "breach_site", "kW"),
        (breach("something-new", "battery", "kW"), "breach_other", "kW"),
    ],
)
def test_each_breach_has_its_text(found: dict[str, object], key: str, unit: str) -> None:
    plan = {"breaches": [found]}
    [summary] = summarize(
        plan, {"battery": 10.0, "car": 60.0}, frozenset({"car"}), frozenset({"boiler buffer"})
    )
    assert _translation_key(summary) == key
    assert summary.unit == unit


async def test_a_breach_too_small_to_show_raises_no_repair(hass: HomeAssistant) -> None:
    # An unfinished plan 0.04 °C under the comfort minimum at the horizon's end: told at 0.1 °C
    # precision it reads "19 °C, planned 19 °C", which asks nothing of anyone.
    tiny = {**breach("comfort-min", "house", "K"), "limit": 19.0, "value": 18.96}
    missed = breach("soc-targets", "battery")
    summaries = summarize({"breaches": [tiny, missed]}, {"battery": 10.0})
    assert [(s.limit, s.value, s.shows) for s in summaries] == [
        (19.0, 19.0, False), (50.0, 60.0, True)
    ]  # fmt: skip
    async_update_issues(hass, summaries)
    issues = {i for d, i in ir.async_get(hass).issues if d == DOMAIN}
    assert issues == {"breach_battery_soc-targets"}
    # The same breach grown to 0.3 °C is raised; shrunk again, it is cleared.
    async_update_issues(hass, summarize({"breaches": [{**tiny, "value": 18.7}]}, {}))
    assert {i for d, i in ir.async_get(hass).issues if d == DOMAIN} == {"breach_house_comfort-min"}
    async_update_issues(hass, summarize({"breaches": [tiny]}, {}))
    assert not {i for d, i in ir.async_get(hass).issues if d == DOMAIN}
