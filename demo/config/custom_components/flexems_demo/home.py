"""The simulated home: day-ahead prices, weather, household load, PV, and devices whose state
follows what they are told (a battery's SoC its setpoint, an EV's SoC its charging power, a
building's temperature its heat pump), stepped in real time."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

BATTERY_KWH = 10.0
EV_KWH = 60.0
HEAT_CAPACITY_KWH_PER_K = 10.0
HEAT_LOSS_KW_PER_K = 0.2
COP = 3.0
PV_PEAK_KW = 5.0


def price(moment: datetime) -> float:
    """EUR/kWh: cheap at night and at midday's solar dip, dear at 8:00 and 19:00; tomorrow
    a little different from today."""
    hour = moment.hour + moment.minute / 60
    day = moment.toordinal() % 7
    return round(
        0.26
        + 0.08 * math.exp(-((hour - 8) ** 2) / 3)
        + 0.14 * math.exp(-((hour - 19) ** 2) / 4)
        - 0.09 * math.exp(-((hour - 13.5) ** 2) / 5)
        - 0.07 * math.exp(-((hour - 3.5) ** 2) / 5)
        + 0.02 * math.sin(day),
        4,
    )


def outdoor_c(moment: datetime) -> float:
    hour = moment.hour + moment.minute / 60
    return round(6 + 4 * math.sin((hour - 9) / 24 * 2 * math.pi), 2)


def pv_kw(moment: datetime) -> float:
    hour = moment.hour + moment.minute / 60
    return round(max(0.0, PV_PEAK_KW * math.sin(math.pi * (hour - 6) / 14)), 3)


def load_kw(moment: datetime) -> float:
    hour = moment.hour + moment.minute / 60
    return round(
        0.35 + 0.8 * math.exp(-((hour - 19) ** 2) / 5) + 0.3 * math.exp(-((hour - 8) ** 2) / 2), 3
    )


EV_TARGET_SOC = 80.0
EV_CHARGER_KW = 11.0


def ev_plugged_in(moment: datetime) -> bool:
    """At home from 17:00 to 7:30."""
    hour = moment.hour + moment.minute / 60
    return hour >= 17 or hour < 7.5


def ev_soc_at_start(moment: datetime) -> float:
    """A car that came home at 17:00 with 35 %: started in the night, it has charged enough
    that its 7:30 target takes about half of the time left (a demo should not open with a
    target it cannot reach)."""
    hour = moment.hour + moment.minute / 60
    if not ev_plugged_in(moment) or hour >= 17:
        return 35.0
    reachable = 100 * EV_CHARGER_KW * (7.5 - hour) / EV_KWH
    return round(min(EV_TARGET_SOC - 5, max(35.0, EV_TARGET_SOC - reachable / 2)), 1)


@dataclass
class Home:
    battery_soc: float = 40.0  # %
    ev_soc: float = 35.0  # %
    indoor_c: float = 20.0
    battery_setpoint_kw: float = 0.0  # consumption positive: charging
    ev_charging_kw: float = 0.0
    heat_pump_kw: float = 0.0
    listeners: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def at(cls, moment: datetime) -> Home:
        return cls(ev_soc=ev_soc_at_start(moment))

    def step(self, now: datetime, seconds: float) -> None:
        hours = seconds / 3600
        charge = self.battery_setpoint_kw * (0.95 if self.battery_setpoint_kw > 0 else 1 / 0.95)
        self.battery_soc = min(
            100.0, max(0.0, self.battery_soc + 100 * charge * hours / BATTERY_KWH)
        )
        if ev_plugged_in(now):
            self.ev_soc = min(100.0, self.ev_soc + 100 * self.ev_charging_kw * hours / EV_KWH)
        else:
            self.ev_charging_kw = 0.0
            self.ev_soc = max(10.0, self.ev_soc - 100 * 1.5 * hours / EV_KWH)  # driving
        heat = COP * self.heat_pump_kw - HEAT_LOSS_KW_PER_K * (self.indoor_c - outdoor_c(now))
        self.indoor_c += heat * hours / HEAT_CAPACITY_KWH_PER_K
        for listener in self.listeners:
            listener()

    def prices_48h(self, now: datetime) -> list[dict[str, object]]:
        """Today's and tomorrow's hourly prices, as Nord Pool's sensors list them."""
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return [
            {
                "start": (midnight + timedelta(hours=h)).isoformat(),
                "end": (midnight + timedelta(hours=h + 1)).isoformat(),
                "value": price(midnight + timedelta(hours=h)),
            }
            for h in range(48)
        ]
