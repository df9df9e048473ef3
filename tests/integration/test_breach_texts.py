"""Each kind of breach gets its own repair text; the site's limits have no asset."""

from __future__ import annotations

import pytest

from custom_components.flexems.breaches import _translation_key, summarize


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
        (breach("consumption-capacity", "battery", "kW"), "breach_power", "kW"),
        (breach("site-power-capacity", None, "kW"), "breach_site", "kW"),
        (breach("something-new", "battery", "kW"), "breach_other", "kW"),
    ],
)
def test_each_breach_has_its_text(found: dict[str, object], key: str, unit: str) -> None:
    plan = {"breaches": [found]}
    [summary] = summarize(plan, {"battery": 10.0, "car": 60.0}, frozenset({"car"}))
    assert _translation_key(summary) == key
    assert summary.unit == unit
