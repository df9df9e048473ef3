"""What a PEBC device said, kept per session: its power forecast, and its power and energy
constraints by id (a new one with the same id replaces it; the RM may revoke them)."""

from __future__ import annotations

from typing import Any

from ..problem.timing import parse_datetime

PEBC = "POWER_ENVELOPE_BASED_CONTROL"
REVOCABLE = {"PEBC.PowerConstraints": "power-constraints",
             "PEBC.EnergyConstraint": "energy-constraints"}  # fmt: skip
KEYS = {"PEBC.PowerConstraints": "power-constraints", "PEBC.EnergyConstraint": "energy-constraints"}


class PebcState:
    def __init__(self) -> None:
        self.forecast: dict[str, Any] | None = None
        self.constraints: dict[str, dict[str, dict[str, Any]]] = {key: {} for key in KEYS.values()}

    def apply(self, message: dict[str, Any]) -> str | None:
        """Keep a constraint, or say why it does not fit."""
        until = message.get("valid_until")
        starts = parse_datetime(message["valid_from"], "valid_from")
        if until is not None and parse_datetime(until, "valid_until") <= starts:
            return "valid_until must come after valid_from"
        energy = message["message_type"] == "PEBC.EnergyConstraint"
        if energy and message["lower_average_power"] > message["upper_average_power"]:
            return "lower_average_power must not exceed upper_average_power"
        self.constraints[KEYS[message["message_type"]]][message["id"]] = message
        return None

    def revoke(self, object_type: str, object_id: str) -> bool:
        key = REVOCABLE.get(object_type)
        if key is None or object_id not in self.constraints[key]:
            return False
        del self.constraints[key][object_id]
        return True

    def entry(self) -> dict[str, Any] | None:
        """The device's part of an `s2-pebc` flex-model entry, once it has a forecast."""
        if self.forecast is None:
            return None
        return {
            "power-forecast": self.forecast,
            **{key: list(found.values()) for key, found in self.constraints.items()},
        }
