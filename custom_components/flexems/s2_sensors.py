"""Sensors of the S2 devices flexems instructs: for an FRBC device how full its storage is (in
the RM's own unit) and the mode its actuator is in; for FRBC and PEBC devices their
instructions: the next one to come and what became of the last."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity, SensorStateClass
from homeassistant.const import PERCENTAGE, UnitOfTemperature
from homeassistant.util import dt as dt_util

from .coordinator import FlexEmsCoordinator
from .plans import schedule
from .s2_devices import S2Entity, is_fill_rate_based

# What an instruction can become (S2's statuses), and "sent" until the RM reports one.
INSTRUCTION_STATUSES = ["sent", "new", "accepted", "rejected", "revoked", "started",
                        "succeeded", "aborted"]  # fmt: skip
FINAL = {"rejected", "revoked", "succeeded", "aborted"}


def instructed_sensors(coordinator: FlexEmsCoordinator, resource_id: str) -> list[S2Entity]:
    found: list[S2Entity] = [
        S2NextInstructionSensor(coordinator, resource_id, "s2_next_instruction"),
        S2InstructionStatusSensor(coordinator, resource_id, "s2_instruction_status"),
    ]
    if is_fill_rate_based(coordinator.s2_devices[resource_id]):
        found += [
            S2FillLevelSensor(coordinator, resource_id, "s2_fill_level"),
            S2OperationModeSensor(coordinator, resource_id, "s2_operation_mode"),
        ]
    return found


class S2FillLevelSensor(S2Entity, SensorEntity):
    """The storage's fill level as the RM last said, in its own unit (°C, %, kWh, ...), and
    as planned (the schedule the plan card draws)."""

    _attr_state_class = SensorStateClass.MEASUREMENT
    _unrecorded_attributes = frozenset({"schedule"})

    def __init__(self, coordinator: FlexEmsCoordinator, resource_id: str, key: str) -> None:
        super().__init__(coordinator, resource_id, key)
        label = self.s2_device.get("fill_level_label")
        if label in ("°C", "C", "degC"):
            self._attr_device_class = SensorDeviceClass.TEMPERATURE
            self._attr_native_unit_of_measurement = UnitOfTemperature.CELSIUS
        elif label == "%":
            self._attr_native_unit_of_measurement = PERCENTAGE
        else:
            self._attr_native_unit_of_measurement = label or None

    @property
    def native_value(self) -> float | None:
        level = self.s2_device.get("fill_level")
        return None if level is None else float(level)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        span = self.s2_device.get("fill_level_range") or {}
        attributes: dict[str, Any] = {
            "label": self.s2_device.get("fill_level_label"),
            "range_min": span.get("start_of_range"),
            "range_max": span.get("end_of_range"),
        }
        plan = self.coordinator.data
        planned = plan["devices"].get(self.resource_id) if plan else None
        if planned is not None and "fill_level" in planned:
            attributes["schedule"] = schedule(plan, planned["fill_level"])
        return attributes


class S2OperationModeSensor(S2Entity, SensorEntity):
    """The operation mode the RM says its (first) actuator is in; all of them as attributes."""

    @property
    def native_value(self) -> str | None:
        modes: dict[str, str] = self.s2_device.get("active_operation_modes") or {}
        return next(iter(modes.values()), None)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"actuators": self.s2_device.get("active_operation_modes") or {}}


class S2NextInstructionSensor(S2Entity, SensorEntity):
    """When the next instruction sent to the device takes effect, and what it asks."""

    _attr_device_class = SensorDeviceClass.TIMESTAMP

    def _next(self) -> dict[str, Any] | None:
        now = dt_util.utcnow()
        coming = [
            instruction for instruction in self.s2_device.get("instructions") or []
            if instruction["status"].lower() not in FINAL and _at(instruction) > now
        ]  # fmt: skip
        return min(coming, key=_at, default=None)

    @property
    def native_value(self) -> datetime | None:
        found = self._next()
        return None if found is None else _at(found)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        found = self._next() or {}
        return {key: found.get(key) for key in ("operation_mode", "factor", "actuator_id")}


class S2InstructionStatusSensor(S2Entity, SensorEntity):
    """What became of the latest instruction that is due (or, before any, the first sent)."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = INSTRUCTION_STATUSES

    def _latest(self) -> dict[str, Any] | None:
        instructions: list[dict[str, Any]] = self.s2_device.get("instructions") or []
        now = dt_util.utcnow()
        due = [instruction for instruction in instructions if _at(instruction) <= now]
        if due:
            return max(due, key=_at)
        return min(instructions, key=_at, default=None)

    @property
    def native_value(self) -> str | None:
        found = self._latest()
        return None if found is None else str(found["status"]).lower()

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        found = self._latest() or {}
        return {key: found.get(key) for key in ("id", "operation_mode", "execution_time")}


def _at(instruction: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(instruction["execution_time"])
