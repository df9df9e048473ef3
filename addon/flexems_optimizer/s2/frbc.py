"""What an FRBC device said, kept per session and checked against its own system description:
the latest of each message kind, by the keys of the `s2-frbc` flex-model entry."""

from __future__ import annotations

from typing import Any

FRBC = "FILL_RATE_BASED_CONTROL"
# Message type → the flex-model key it is kept under (lists: one per actuator, per timer).
KEYS = {
    "FRBC.SystemDescription": "system-description",
    "FRBC.StorageStatus": "storage-status",
    "FRBC.LeakageBehaviour": "leakage-behaviour",
    "FRBC.UsageForecast": "usage-forecast",
    "FRBC.FillLevelTargetProfile": "fill-level-target-profile",
    "FRBC.ActuatorStatus": "actuator-statuses",
    "FRBC.TimerStatus": "timer-statuses",
}
REVOCABLE = {"FRBC.SystemDescription": "system-description"}


class FrbcState:
    """The device's FRBC messages; `apply` says why a message does not fit, or keeps it."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, Any]] = {}
        self.actuators: dict[str, dict[str, Any]] = {}  # by actuator id
        self.timers: dict[tuple[str, str], dict[str, Any]] = {}  # by (actuator id, timer id)

    def apply(self, message: dict[str, Any]) -> str | None:
        kind = message["message_type"]
        problem = _CHECKS[kind](self, message) if kind in _CHECKS else None
        if problem is not None:
            return problem
        if kind == "FRBC.ActuatorStatus":
            self.actuators[message["actuator_id"]] = message
        elif kind == "FRBC.TimerStatus":
            self.timers[(message["actuator_id"], message["timer_id"])] = message
        else:
            self.latest[KEYS[kind]] = message
            if kind == "FRBC.SystemDescription":
                self._forget_unknown()
        return None

    def revoke(self, object_type: str, object_id: str) -> bool:
        key = REVOCABLE.get(object_type)
        found = self.latest.get(key) if key else None
        if found is None or found["message_id"] != object_id:
            return False
        del self.latest[key]  # type: ignore[arg-type]  # key is set when found
        return True

    def description(self) -> dict[str, Any] | None:
        return self.latest.get("system-description")

    def actuator(self, actuator_id: str) -> dict[str, Any] | None:
        described = self.description()
        if described is None:
            return None
        return next((a for a in described["actuators"] if a["id"] == actuator_id), None)

    def entry(self) -> dict[str, Any] | None:
        """The device's part of an `s2-frbc` flex-model entry, once it can be planned: it has
        described itself and said how full it is."""
        if "system-description" not in self.latest or "storage-status" not in self.latest:
            return None
        return {
            **self.latest,
            "actuator-statuses": list(self.actuators.values()),
            "timer-statuses": list(self.timers.values()),
        }

    def _forget_unknown(self) -> None:
        """A new description may drop actuators, modes or timers: forget their statuses."""
        self.actuators = {k: v for k, v in self.actuators.items() if _check_status(self, v) is None}
        self.timers = {k: v for k, v in self.timers.items() if _check_timer(self, v) is None}

    @staticmethod
    def restore(entry: dict[str, Any] | None) -> FrbcState:
        state = FrbcState()
        for key, value in (entry or {}).items():
            if key == "actuator-statuses":
                state.actuators = {status["actuator_id"]: status for status in value}
            elif key == "timer-statuses":
                state.timers = {(t["actuator_id"], t["timer_id"]): t for t in value}
            else:
                state.latest[key] = value
        return state


def _check_description(_: FrbcState, message: dict[str, Any]) -> str | None:
    actuator_ids = [a["id"] for a in message["actuators"]]
    if len(set(actuator_ids)) != len(actuator_ids):
        return "actuator ids must be unique"
    for actuator in message["actuators"]:
        modes = [m["id"] for m in actuator["operation_modes"]]
        timers = {t["id"] for t in actuator["timers"]}
        where = f"actuator {actuator['id']!r}"
        if len(set(modes)) != len(modes):
            return f"{where}: operation mode ids must be unique"
        for transition in actuator["transitions"]:
            for end in ("from", "to"):
                if transition[end] not in modes:
                    return (f"{where}: transition {transition['id']!r} names an unknown "
                            f"operation mode {transition[end]!r}")  # fmt: skip
            unknown = set(transition["start_timers"]) | set(transition["blocking_timers"])
            if unknown - timers:
                return (f"{where}: transition {transition['id']!r} names an unknown timer "
                        f"{sorted(unknown - timers)[0]!r}")  # fmt: skip
        for mode in actuator["operation_modes"]:
            for element in mode["elements"]:
                if not _ordered(element["fill_level_range"]):
                    return f"{where}: mode {mode['id']!r} has a fill_level_range that ends first"
    if not _ordered(message["storage"]["fill_level_range"]):
        return "the storage's fill_level_range ends before it starts"
    return None


def _ordered(number_range: dict[str, float]) -> bool:
    return number_range["start_of_range"] <= number_range["end_of_range"]


def _check_status(state: FrbcState, message: dict[str, Any]) -> str | None:
    actuator = state.actuator(message["actuator_id"])
    if actuator is None:
        return _unknown_actuator(state, message["actuator_id"])
    modes = {m["id"] for m in actuator["operation_modes"]}
    for key in ("active_operation_mode_id", "previous_operation_mode_id"):
        if key in message and message[key] is not None and message[key] not in modes:
            return f"{key} {message[key]!r} is not an operation mode of {actuator['id']!r}"
    if not 0.0 <= message["operation_mode_factor"] <= 1.0:
        return "operation_mode_factor must be within [0, 1]"
    return None


def _check_timer(state: FrbcState, message: dict[str, Any]) -> str | None:
    actuator = state.actuator(message["actuator_id"])
    if actuator is None:
        return _unknown_actuator(state, message["actuator_id"])
    if message["timer_id"] not in {t["id"] for t in actuator["timers"]}:
        return f"timer {message['timer_id']!r} is not a timer of {actuator['id']!r}"
    return None


def _unknown_actuator(state: FrbcState, actuator_id: str) -> str:
    if state.description() is None:
        return "send an FRBC.SystemDescription first"
    return f"actuator {actuator_id!r} is not in the FRBC.SystemDescription"


_CHECKS = {
    "FRBC.SystemDescription": _check_description,
    "FRBC.ActuatorStatus": _check_status,
    "FRBC.TimerStatus": _check_timer,
}
