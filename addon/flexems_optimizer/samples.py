"""Seeded, realistic sample problems: for the demo, the benchmarks and the tests."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

START = "2026-01-05T00:00:00+01:00"


def home_battery(steps: int, minutes: int, seed: int = 7) -> dict[str, Any]:
    """A seeded, realistic home: day-ahead prices, PV, household load and a 10 kWh battery."""
    rng = np.random.default_rng(seed)
    hours = np.arange(steps) * minutes / 60.0
    hour_of_day = hours % 24
    day = hours // 24
    # Day-ahead prices (EUR/MWh): morning and evening peaks, a solar dip, day-to-day swings.
    price = (
        90
        + 45 * np.exp(-((hour_of_day - 8) ** 2) / 4)
        + 70 * np.exp(-((hour_of_day - 19) ** 2) / 5)
        - 40 * np.exp(-((hour_of_day - 13) ** 2) / 6)
        + 20 * np.sin(day * 0.9)
        + rng.normal(0, 8, steps)
    )
    seasonal = 0.6 + 0.4 * np.sin(2 * math.pi * (day - 80) / 365)
    pv = np.clip(6.0 * seasonal * np.sin(math.pi * (hour_of_day - 6) / 14), 0, None)
    pv *= rng.uniform(0.3, 1.0, steps)
    load = 0.35 + 0.6 * np.exp(-((hour_of_day - 19) ** 2) / 6) + rng.gamma(1.2, 0.15, steps)
    series = {"start": START, "resolution": f"PT{minutes}M"}
    return {
        "start": START,
        "duration": f"PT{steps * minutes}M",
        "resolution": f"PT{minutes}M",
        "flex-context": {
            "consumption-price": {
                **series, "values": np.round(price + 120, 2).tolist(), "unit": "EUR/MWh",
            },
            "production-price": {
                **series, "values": np.round(price * 0.9, 2).tolist(), "unit": "EUR/MWh",
            },
            "site-power-capacity": "17 kW",
            "inflexible-consumption": {**series, "values": np.round(load, 3).tolist()},
            "inflexible-production": {**series, "values": np.round(pv, 3).tolist()},
        },
        "flex-model": [
            {
                "name": "battery", "type": "storage", "soc-at-start": "5 kWh", "soc-min": "1 kWh",
                "soc-max": "10 kWh", "power-capacity": "5 kW", "roundtrip-efficiency": "90%",
                "storage-efficiency": "99.99%",
            }
        ],
    }  # fmt: skip


def coupled_site(
    steps: int, minutes: int = 15, seed: int = 3, on_off: bool = False
) -> dict[str, Any]:
    """A home with everything: battery, EV, a heat pump with a hot-water buffer, a heat pump in
    the building, PV, a washing machine and a dishwasher, under one 11 kW connection with a peak
    price. `on_off` gives the building's heat pump a 1 kW minimum power (binaries every step).
    """
    rng = np.random.default_rng(seed)
    start = "2026-06-01T00:00:00+00:00"
    hours = np.arange(steps) * minutes / 60
    day = hours % 24
    resolution = f"PT{minutes}M"

    def series(values: Any) -> dict[str, Any]:
        return {"start": start, "resolution": resolution, "values": np.round(values, 3).tolist()}

    def later(offset_minutes: int) -> str:
        moment = np.datetime64("2026-06-01T00:00") + np.timedelta64(offset_minutes, "m")
        return f"{moment}:00+00:00"

    price = 0.25 + 0.1 * np.sin((day - 13) / 24 * 2 * np.pi) + rng.normal(0, 0.02, steps)
    pv = np.clip(5 * np.sin(np.pi * (day - 6) / 14), 0, None)
    outdoor = 3 + 4 * np.sin((day - 9) / 24 * 2 * np.pi)
    end = steps * minutes
    building_pump: dict[str, Any] = {
        "name": "hp", "type": "heat-pump", "heats": "house", "power-capacity": "3 kW",
        "cop-model": {"outdoor-temperature": series(outdoor), "supply-temperature": 35},
    }  # fmt: skip
    if on_off:
        building_pump["min-power"] = "1 kW"
    return {
        "start": start,
        "duration": f"PT{end}M",
        "resolution": resolution,
        "flex-context": {
            "consumption-price": series(price),
            "production-price": series(price * 0.4),
            "inflexible-consumption": series(0.4 + 0.3 * rng.random(steps)),
            "inflexible-production": series(pv),
            "site-power-capacity": "11 kW",
            "site-peak-consumption-price": "2 EUR/kW",
        },
        "flex-model": [
            {"name": "battery", "soc-at-start": 5, "soc-max": 10, "power-capacity": 5,
             "roundtrip-efficiency": "90%"},
            {"name": "ev", "soc-at-start": 10, "soc-max": 60, "power-capacity": 7.4,
             "production-capacity": 0,
             "soc-targets": [{"datetime": later(min(end, 7 * 60)), "value": 25}]},
            {"name": "buffer", "type": "heat-storage", "soc-at-start": 4, "soc-min": 1,
             "soc-max": 8, "soc-usage": "0.3 kW", "storage-efficiency": "99%",
             "storage-efficiency-resolution": "PT1H"},
            {"name": "water-hp", "type": "heat-pump", "heats": "buffer", "power-capacity": 2,
             "cop-model": {"outdoor-temperature": series(outdoor), "supply-temperature": 55},
             "consumption-price": "0.18 EUR/kWh"},
            {"name": "house", "type": "heat-storage", "model": "building",
             "heat-capacity": "10 kWh/K", "heat-loss": "0.2 kW/K",
             "ambient-temperature": series(outdoor), "temperature-at-start": 20,
             "comfort-min": 19, "comfort-max": 22},
            building_pump,
            # Appliances run within a day: the washer by midnight, the dishwasher overnight.
            {"name": "washer", "type": "process", "policy": "SHIFTABLE", "power": "2 kW",
             "duration": "PT2H", "deadline": later(min(end, 24 * 60))},
            {"name": "dishwasher", "type": "process", "policy": "SHIFTABLE",
             "profile": [1.8, 0.1, 0.1, 1.5][: max(1, min(4, steps))],
             "earliest-start": later(min(20 * 60, max(0, end - 60))),
             "deadline": later(min(end, 31 * 60))},
        ],
    }  # fmt: skip


def hard_home(steps: int, seed: int) -> dict[str, Any]:
    """The coupled sample home made hard: run rules on the on/off building heat pump and a
    minimum charging power on the EV."""
    body = coupled_site(steps, seed=seed, on_off=True)
    for device in body["flex-model"]:
        if device.get("type") == "heat-pump" and "min-power" in device:
            device["min-run-time"] = "PT1H"
            device["min-off-time"] = "PT30M"
        if device["name"] == "ev":
            device["min-power"] = "4.1 kW"
    return body
