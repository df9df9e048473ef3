"""What a site's S2 devices add to its problem, and where they are in its plan.

Devices outside flexems' control (NOT_CONTROLLABLE) are load, or production when their power
is negative: their PowerForecast over its elements, and outside them their latest
PowerMeasurement (else nothing). A connected FRBC device that has described itself and its
fill level is an `s2-frbc` flex-model entry named `s2:<resource id>`, a connected PEBC device
with a power forecast an `s2-pebc` entry; a disconnected one cannot follow instructions and is
left out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..problem.timing import parse_datetime, parse_duration
from .devices import S2Device
from .frbc import FRBC
from .pebc import PEBC
from .session import NOT_CONTROLLABLE

ENTRY_TYPES = {FRBC: "s2-frbc", PEBC: "s2-pebc"}

ELECTRIC = ("ELECTRIC.POWER.L1", "ELECTRIC.POWER.L2", "ELECTRIC.POWER.L3",
            "ELECTRIC.POWER.3_PHASE_SYMMETRIC")  # fmt: skip
Segment = tuple[float, float, float]  # start s, end s, kW


def entry_name(resource_id: str) -> str:
    return f"s2:{resource_id}"


def instructed_devices(devices: list[S2Device]) -> list[S2Device]:
    """The devices flexems plans and instructs: connected FRBC and PEBC devices that have said
    enough to be planned."""
    return [d for d in devices
            if d.control_type in ENTRY_TYPES and d.connected and d.control is not None]  # fmt: skip


def with_s2_devices(problem: dict[str, Any], devices: list[S2Device]) -> dict[str, Any]:
    instructed = instructed_devices(devices)
    if instructed:
        model = problem.get("flex-model", [])
        entries = [model] if isinstance(model, dict) else list(model)
        for device in instructed:
            assert device.control is not None
            kind = ENTRY_TYPES[device.control_type]
            entries.append({"name": entry_name(device.resource_id), "type": kind, **device.control})
        problem = {**problem, "flex-model": entries}
    uncontrolled = [d for d in devices if d.control_type == NOT_CONTROLLABLE]
    if not uncontrolled:
        return problem
    start = parse_datetime(problem["start"], "start").timestamp()
    if "end" in problem:
        end = parse_datetime(problem["end"], "end").timestamp()
    else:
        end = start + parse_duration(problem["duration"], "duration").total_seconds()
    context = dict(problem.get("flex-context", {}))
    for device in uncontrolled:
        segments = device_power(device, start, end)
        for key, sign in (("inflexible-consumption", 1.0), ("inflexible-production", -1.0)):
            events = [
                {"start": _iso(a), "end": _iso(b), "value": max(sign * kw, 0.0)}
                for a, b, kw in segments
            ]
            context[key] = _plus(context.get(key), events)
    return {**problem, "flex-context": context}


def device_power(device: S2Device, start: float, end: float) -> list[Segment]:
    """The device's power (kW, consumption positive) over [start, end), gap-free."""
    fallback = _electric_kw(device.measurement["values"]) if device.measurement else 0.0
    forecast: list[Segment] = []
    if device.forecast is not None:
        moment = parse_datetime(device.forecast["start_time"], "start_time").timestamp()
        for element in device.forecast["elements"]:
            length = element["duration"] / 1000.0  # S2 durations are milliseconds
            values = [
                {"commodity_quantity": v["commodity_quantity"], "value": v["value_expected"]}
                for v in element["power_values"]
            ]
            forecast.append((moment, moment + length, _electric_kw(values)))
            moment += length
    segments: list[Segment] = []
    cursor = start
    for begins, ends, kw in forecast:
        a, b = max(begins, start, cursor), min(ends, end)
        if b <= a:
            continue
        if a > cursor:
            segments.append((cursor, a, fallback))
        segments.append((a, b, kw))
        cursor = b
    if cursor < end:
        segments.append((cursor, end, fallback))
    return segments


def _electric_kw(values: Sequence[Mapping[str, Any]]) -> float:
    """W per commodity quantity → kW of electric power (a 3-phase symmetric value is the total)."""
    return sum(float(v["value"]) for v in values if v["commodity_quantity"] in ELECTRIC) / 1000.0


def _plus(existing: Any, events: list[dict[str, Any]]) -> list[Any]:
    """Add a series to a flex-context flow: a series, a list of series, or nothing yet."""
    if existing is None:
        return [events]
    is_list_of_series = isinstance(existing, list) and not all(
        isinstance(item, Mapping) and "value" in item for item in existing
    )
    return [*existing, events] if is_list_of_series else [existing, events]


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def with_s2_results(plan: dict[str, Any], devices: list[S2Device]) -> dict[str, Any]:
    """The plan with each S2 device under its resource id: its control type and its power per
    step as planned (for a device outside flexems' control: as it said it would run)."""
    uncontrolled = [d for d in devices if d.control_type == NOT_CONTROLLABLE]
    instructed = instructed_devices(devices)
    if not (uncontrolled or instructed) or not plan.get("timestamps"):
        return plan
    starts = [parse_datetime(t, "timestamps").timestamp() for t in plan["timestamps"]]
    step = parse_duration(plan["resolution"], "resolution").total_seconds()
    listed = dict(plan["devices"])
    solved = {d.resource_id: listed.pop(entry_name(d.resource_id)) for d in instructed}
    for device in [*uncontrolled, *instructed]:
        if device in instructed:
            part = {k: v for k, v in solved[device.resource_id].items() if k != "type"}
        else:
            segments = device_power(device, starts[0], starts[-1] + step)
            part = {"power_kw": [round(_average(segments, t, t + step), 6) for t in starts]}
        key = (
            device.resource_id
            if device.resource_id not in listed
            else entry_name(device.resource_id)
        )
        listed[key] = {
            "type": "s2",
            "resource_id": device.resource_id,
            "control_type": device.control_type,
            "name": device.details.get("name"),
            **part,
            "instructions": list(device.instructions),
        }
    return {**plan, "devices": listed}


def s2_part(plan: dict[str, Any], resource_id: str) -> dict[str, Any] | None:
    """A device's part of a site plan."""
    return next((device for device in plan.get("devices", {}).values()
                 if device.get("type") == "s2" and device.get("resource_id") == resource_id),
                None)  # fmt: skip


def _average(segments: list[Segment], start: float, end: float) -> float:
    """The time-weighted average power of gap-free segments over [start, end)."""
    energy = sum(max(0.0, min(b, end) - max(a, start)) * kw for a, b, kw in segments)
    return energy / (end - start)
