"""Seeded communities of homes for the benchmark, the tests and the README: every home sees
the same day-ahead prices (what makes uncoordinated homes crowd into the same cheap hours)
and has its own mix of battery, EV with an evening arrival, heat pump and PV."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

START = "2026-06-01T12:00:00+02:00"  # noon to noon: evening arrivals, night charging
MINUTES = 15


def _moment(offset_minutes: float) -> str:
    moment = np.datetime64("2026-06-01T12:00") + np.timedelta64(int(offset_minutes), "m")
    return f"{moment}:00+02:00"


def day_ahead_prices(steps: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """EUR/kWh from noon: a solar dip at 13:00, the evening peak at 19:00, cheapest at night."""
    hour = (12 + np.arange(steps) * MINUTES / 60) % 24
    return np.round(
        0.24
        - 0.06 * np.exp(-((hour - 13.5) ** 2) / 5)
        + 0.12 * np.exp(-((hour - 19) ** 2) / 4)
        + 0.05 * np.exp(-((hour - 8) ** 2) / 3)
        - 0.08 * np.exp(-((((hour + 12) % 24) - 15.5) ** 2) / 5),  # the night trough at 03:30
        4,
    )


def community_home(index: int, seed: int, steps: int = 96) -> dict[str, Any]:
    """One home of a seeded community: household load, and by chance PV (60 %), a battery
    (40 %), an EV plugged in between 17:00 and 20:00 that must gain 12-30 kWh by its departure
    between 06:30 and 08:00 (50 %), a heat pump keeping a hot-water tank (40 %)."""
    rng = np.random.default_rng([seed, index])
    hour = (12 + np.arange(steps) * MINUTES / 60) % 24
    series = {"start": START, "resolution": f"PT{MINUTES}M"}
    price = day_ahead_prices(steps)
    load = (
        rng.uniform(0.2, 0.45)
        + rng.uniform(0.4, 1.0) * np.exp(-((hour - rng.uniform(18, 20.5)) ** 2) / 3)
        + rng.gamma(1.2, 0.08, steps)
    )
    context: dict[str, Any] = {
        "consumption-price": {**series, "values": price.tolist(), "unit": "EUR/kWh"},
        "production-price": {**series, "values": np.round(price * 0.5, 4).tolist(),
                             "unit": "EUR/kWh"},
        "site-power-capacity": "17 kW",
        "inflexible-consumption": {**series, "values": np.round(load, 3).tolist()},
    }  # fmt: skip
    if rng.random() < 0.6:
        peak = rng.uniform(3.0, 8.0)
        pv = np.clip(peak * np.sin(math.pi * (hour - 6) / 14), 0, None) * rng.uniform(0.8, 1.0)
        context["inflexible-production"] = {**series, "values": np.round(pv, 3).tolist()}
    devices: list[dict[str, Any]] = []
    if rng.random() < 0.4:
        size = float(rng.choice([5.0, 10.0, 13.5]))
        devices.append({
            "name": "battery", "type": "storage", "soc-at-start": f"{size * 0.3:g} kWh",
            "soc-min": f"{size * 0.1:g} kWh", "soc-max": f"{size:g} kWh",
            "power-capacity": f"{min(size / 2, 5.0):g} kW", "roundtrip-efficiency": "90%",
        })  # fmt: skip
    if rng.random() < 0.5:
        arrive = rng.uniform(5, 8) * 60  # minutes after noon: 17:00-20:00
        leave = rng.uniform(18.5, 20) * 60  # 06:30-08:00
        charger = float(rng.choice([7.4, 11.0]))
        devices.append({
            "name": "ev", "type": "storage", "soc-at-start": "20 kWh", "soc-max": "75 kWh",
            "consumption-capacity": f"{charger:g} kW", "production-capacity": "0 kW",
            "availability": [{"start": _moment(arrive - arrive % MINUTES),
                              "end": _moment(leave - leave % MINUTES)}],
            "soc-targets": [{"datetime": _moment(leave - leave % MINUTES),
                             "value": f"{20 + rng.uniform(12, 30):.1f} kWh"}],
        })  # fmt: skip
    if rng.random() < 0.4:
        use = np.where((hour >= 6) & (hour < 9) | (hour >= 19) & (hour < 22), 1.2, 0.15)
        devices += [
            {"name": "tank", "type": "heat-storage", "soc-at-start": "6 kWh", "soc-min": "2 kWh",
             "soc-max": "12 kWh", "soc-usage": {**series, "values": np.round(use, 3).tolist()}},
            {"name": "heat-pump", "type": "heat-pump", "heats": "tank", "power-capacity": "2 kW",
             "cop": 3.0},
        ]  # fmt: skip
    return {
        "start": START,
        "duration": f"PT{steps * MINUTES}M",
        "resolution": f"PT{MINUTES}M",
        "flex-context": context,
        "flex-model": devices,
    }


def sample_community(
    homes: int, seed: int = 1, capacity_per_home_kw: float = 1.6, policy: Any = None
) -> dict[str, Any]:
    """A community file (`community simulate`) whose shared capacity the homes break when
    each plans alone."""
    body: dict[str, Any] = {
        "name": f"{homes} homes (seed {seed})",
        "capacity": {
            "consumption": f"{homes * capacity_per_home_kw:g} kW",
            "production": f"{homes * 2 * capacity_per_home_kw:g} kW",
        },
        "members": [
            {"name": f"home-{i + 1:04d}", "problem": community_home(i, seed)} for i in range(homes)
        ],
    }
    if policy is not None:
        body["policy"] = policy
    return body
