"""Consistent S2 devices for tests, benchmarks and the demo, as their RMs would describe them.

The hot-water heat pump follows the S2 documentation's example (buffer 45–55 °C, "running"
500–2000 W at a COP of about 3.5, "off", a minimum run of 2 h and a minimum pause of 1 h as
timers, leakage 0.00005 °C/s, processing delay 10 s) with its inconsistencies fixed: one
actuator id throughout, timer durations in milliseconds, each transition starting the timer its
label names and blocked by the other, a usage forecast that is not empty, and a 400 L buffer
instead of 200 L (fill rate 0.001045–0.004175 °C/s): with 200 L a two-hour run at the least
power heats 15 °C, more than the 10 °C the buffer may move, so every run would breach it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .frbc import KEYS as FRBC_KEYS
from .pebc import KEYS as PEBC_KEYS

HOUR_MS = 3_600_000
ELECTRIC = "ELECTRIC.POWER.3_PHASE_SYMMETRIC"


def _range(start: float, end: float) -> dict[str, float]:
    return {"start_of_range": start, "end_of_range": end}


def _power(start_w: float, end_w: float) -> list[dict[str, Any]]:
    return [{**_range(start_w, end_w), "commodity_quantity": ELECTRIC}]


def _mode(
    mode_id: str, label: str, level: tuple[float, float], rate: tuple[float, float],
    power_w: tuple[float, float],
) -> dict[str, Any]:  # fmt: skip
    element = {"fill_level_range": _range(*level), "fill_rate": _range(*rate),
               "power_ranges": _power(*power_w)}  # fmt: skip
    return {"id": mode_id, "diagnostic_label": label, "elements": [element],
            "abnormal_condition_only": False}  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def details(resource_id: str, name: str, control_types: list[str]) -> dict[str, Any]:
    return {
        "message_type": "ResourceManagerDetails", "message_id": f"{resource_id}-details",
        "resource_id": resource_id, "name": name, "roles": [{"role": "ENERGY_CONSUMER",
        "commodity": "ELECTRICITY"}], "instruction_processing_delay": 10_000,
        "available_control_types": control_types, "provides_forecast": False,
        "provides_power_measurement_types": [ELECTRIC],
    }  # fmt: skip


def heat_pump(start: datetime, *, active: str = "off", fill_level: float = 48.0,
              timers_finish: dict[str, datetime] | None = None,
              showers: bool = True) -> dict[str, Any]:  # fmt: skip
    """The hot-water heat pump's FRBC messages, by flex-model key (s2-frbc entry). Its usage
    forecast covers three days from the start's midnight: a steady draw, and with `showers`
    a shower at 07:00 and at 19:00."""
    level = (45.0, 55.0)
    running = _mode("om0", "running", level, (0.001045, 0.004175), (500.0, 2000.0))
    off = _mode("om1", "off", level, (0.0, 0.0), (0.0, 0.0))
    actuator = {
        "id": "hp0", "diagnostic_label": "heat pump", "supported_commodities": ["ELECTRICITY"],
        "operation_modes": [running, off],
        "transitions": [
            {"id": "tr-start", "from": "om1", "to": "om0", "start_timers": ["min-run"],
             "blocking_timers": ["min-off"], "abnormal_condition_only": False},
            {"id": "tr-stop", "from": "om0", "to": "om1", "start_timers": ["min-off"],
             "blocking_timers": ["min-run"], "abnormal_condition_only": False},
        ],
        "timers": [{"id": "min-run", "diagnostic_label": "minimum run", "duration": 2 * HOUR_MS},
                   {"id": "min-off", "diagnostic_label": "minimum off", "duration": HOUR_MS}],
    }  # fmt: skip
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    usage = []
    for hour in range(72):
        shower = showers and hour % 24 in (7, 19)
        usage.append({"duration": HOUR_MS, "usage_rate_expected": 0.0012 if shower else 0.00015})
    statuses = [
        {"message_id": f"timer-{timer}", "timer_id": timer, "actuator_id": "hp0",
         "finished_at": _iso(moment)}
        for timer, moment in (timers_finish or {}).items()
    ]  # fmt: skip
    return {
        "system-description": {
            "message_id": "hp-description", "valid_from": _iso(start), "actuators": [actuator],
            "storage": {"diagnostic_label": "hot water", "fill_level_label": "°C",
                        "provides_leakage_behaviour": True,
                        "provides_fill_level_target_profile": False,
                        "provides_usage_forecast": True, "fill_level_range": _range(*level)},
        },
        "storage-status": {"message_id": "hp-storage", "present_fill_level": fill_level},
        "actuator-statuses": [{
            "message_id": "hp-actuator", "actuator_id": "hp0",
            "active_operation_mode_id": "om0" if active == "running" else "om1",
            "operation_mode_factor": 0.0,
        }],
        "timer-statuses": statuses,
        "leakage-behaviour": {
            "message_id": "hp-leakage", "valid_from": _iso(start),
            "elements": [{"fill_level_range": _range(0.0, 100.0), "leakage_rate": 0.00005}],
        },
        "usage-forecast": {"message_id": "hp-usage", "start_time": _iso(day),
                           "elements": usage},
    }  # fmt: skip


def battery(start: datetime, *, fill_level: float = 50.0) -> dict[str, Any]:
    """A 10 kWh home battery in %: charge 0.5–3.7 kW (95 % efficient), idle, discharge."""
    percent_per_s_per_kw = 100.0 / 10.0 / 3600.0  # 1 kW for a second in % of 10 kWh
    level = (5.0, 100.0)
    charge = _mode("charge", "charging", level,
                   (0.5 * 0.95 * percent_per_s_per_kw, 3.7 * 0.95 * percent_per_s_per_kw),
                   (500.0, 3700.0))  # fmt: skip
    idle = _mode("idle", "idle", level, (0.0, 0.0), (0.0, 0.0))
    discharge = _mode("discharge", "discharging", level,
                      (-0.5 / 0.95 * percent_per_s_per_kw, -3.7 / 0.95 * percent_per_s_per_kw),
                      (-500.0, -3700.0))  # fmt: skip
    pairs = [("charge", "idle"), ("idle", "charge"), ("idle", "discharge"),
             ("discharge", "idle"), ("charge", "discharge"), ("discharge", "charge")]  # fmt: skip
    actuator = {
        "id": "inverter", "supported_commodities": ["ELECTRICITY"],
        "operation_modes": [charge, idle, discharge],
        "transitions": [_transition(a, b) for a, b in pairs], "timers": [],
    }  # fmt: skip
    return _storage_device("battery", start, actuator, level, fill_level, "idle")


def ev(start: datetime, *, fill_level: float = 30.0, ready_at: datetime | None = None,
       target: float = 80.0) -> dict[str, Any]:  # fmt: skip
    """An EV of 60 kWh in %: charging 1.4–11 kW (90 % efficient) or not, and a fill-level
    target profile: at least `target` % from `ready_at` (default: 07:00 the next day)."""
    percent_per_s_per_kw = 100.0 / 60.0 / 3600.0
    level = (0.0, 100.0)
    charge = _mode("charging", "charging", level,
                   (1.4 * 0.9 * percent_per_s_per_kw, 11.0 * 0.9 * percent_per_s_per_kw),
                   (1400.0, 11000.0))  # fmt: skip
    idle = _mode("paused", "not charging", level, (0.0, 0.0), (0.0, 0.0))
    actuator = {
        "id": "charger", "supported_commodities": ["ELECTRICITY"],
        "operation_modes": [charge, idle],
        "transitions": [_transition("paused", "charging"), _transition("charging", "paused")],
        "timers": [],
    }  # fmt: skip
    ready = ready_at or (start.replace(hour=7, minute=0, second=0, microsecond=0)
                         + timedelta(days=1))  # fmt: skip
    before_ms = int((ready - start).total_seconds() * 1000)
    messages = _storage_device("ev", start, actuator, level, fill_level, "paused")
    messages["system-description"]["storage"]["provides_fill_level_target_profile"] = True
    messages["fill-level-target-profile"] = {
        "message_id": "ev-target", "start_time": _iso(start),
        "elements": [{"duration": before_ms, "fill_level_range": _range(0.0, 100.0)},
                     {"duration": 2 * HOUR_MS, "fill_level_range": _range(target, 100.0)}],
    }  # fmt: skip
    return messages


def _transition(source: str, target: str) -> dict[str, Any]:
    """A transition without timers or costs, named after its modes."""
    return {"id": f"{source}-{target}", "from": source, "to": target, "start_timers": [],
            "blocking_timers": [], "abnormal_condition_only": False}  # fmt: skip


def _storage_device(
    name: str, start: datetime, actuator: dict[str, Any], level: tuple[float, float],
    fill_level: float, active: str,
) -> dict[str, Any]:  # fmt: skip
    """A storage in % with one actuator: its description, how full it is, its active mode."""
    return {
        "system-description": {
            "message_id": f"{name}-description", "valid_from": _iso(start),
            "actuators": [actuator],
            "storage": {"fill_level_label": "%", "provides_leakage_behaviour": False,
                        "provides_fill_level_target_profile": False,
                        "provides_usage_forecast": False, "fill_level_range": _range(*level)},
        },
        "storage-status": {"message_id": f"{name}-storage", "present_fill_level": fill_level},
        "actuator-statuses": [{"message_id": f"{name}-actuator", "actuator_id": actuator["id"],
                               "active_operation_mode_id": active,
                               "operation_mode_factor": 0.0}],
    }  # fmt: skip


def frbc_entry(name: str, messages: dict[str, Any]) -> dict[str, Any]:
    """A flex-model entry of type s2-frbc from an RM's messages (message types added)."""
    return _entry(name, "s2-frbc", {key: kind for kind, key in FRBC_KEYS.items()}, messages)


def _entry(name: str, kind: str, types: dict[str, str], messages: dict[str, Any]) -> dict[str, Any]:
    """A flex-model entry of `kind`: each message under its key, with its message type."""
    entry: dict[str, Any] = {"name": name, "type": kind}
    for key, value in messages.items():
        if isinstance(value, list):
            entry[key] = [{**item, "message_type": types[key]} for item in value]
        else:
            entry[key] = {**value, "message_type": types[key]}
    return entry


def pv(start: datetime, *, peak_w: float = 6000.0, hours: int = 24) -> dict[str, Any]:
    """A curtailable PV inverter (PEBC): a sunny day's forecast in production (negative W) from
    `start`'s midnight, and power constraints that let the CEM raise its lower limit from
    −peak to 0 (hold production back; what is not produced vanishes)."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    elements = []
    for hour in range(hours):
        sun = max(0.0, 1.0 - abs(hour % 24 + 0.5 - 13.0) / 6.0)  # 07:00–19:00, noon peak
        value = {"commodity_quantity": ELECTRIC, "value_expected": -peak_w * sun}
        elements.append({"duration": HOUR_MS, "power_values": [value]})
    constraints = {
        "message_id": "pv-constraints", "id": "pv-limits", "valid_from": _iso(day),
        "consequence_type": "VANISH",
        "allowed_limit_ranges": [
            {"commodity_quantity": ELECTRIC, "limit_type": "LOWER_LIMIT",
             "range_boundary": _range(-peak_w, 0.0), "abnormal_condition_only": False},
            {"commodity_quantity": ELECTRIC, "limit_type": "UPPER_LIMIT",
             "range_boundary": _range(0.0, 0.0), "abnormal_condition_only": False},
        ],
    }  # fmt: skip
    return {
        "power-forecast": {"message_id": "pv-forecast", "start_time": _iso(day),
                           "elements": elements},
        "power-constraints": [constraints],
    }  # fmt: skip


def pebc_entry(name: str, messages: dict[str, Any]) -> dict[str, Any]:
    """A flex-model entry of type s2-pebc from an RM's messages (message types added)."""
    types = {key: kind for kind, key in PEBC_KEYS.items()} | {"power-forecast": "PowerForecast"}
    return _entry(name, "s2-pebc", types, messages)
