"""From a plan to FRBC instructions, and what became of them, for one session.

The plan's next mode changes within INSTRUCTION_HORIZON_S become `FRBC.Instruction`s, each at its
step's start but never sooner than the RM's `instruction_processing_delay` from now, and never
before a running timer that blocks its transition has finished. A new plan keeps what it still
wants (same actuator, mode and factor at the same time, or at once for a change it wants now),
revokes the pending rest (`RevokeObject`), and sends what is new. The RM reports each
instruction's status; it may name an instruction by its message id (tolerated).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..problem.timing import parse_datetime
from ..store import iso_time
from .frbc import FrbcState
from .messages import outgoing

INSTRUCTION_HORIZON_S = 6 * 3600.0  # the next hours of the plan
FINAL = frozenset({"SUCCEEDED", "REJECTED", "REVOKED", "ABORTED"})
FACTOR_TOLERANCE = 0.01
KEPT_RECORDS = 20  # what a device shows of its recent instructions
SAME_TIME_S = 1.0


@dataclass
class Instruction:
    id: str
    message_id: str
    actuator_id: str
    operation_mode: str
    factor: float
    execution_time: float  # epoch seconds
    status: str = "SENT"  # until the RM reports one of S2's statuses

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id, "actuator_id": self.actuator_id, "operation_mode": self.operation_mode,
            "factor": self.factor, "execution_time": iso_time(self.execution_time),
            "status": self.status,
        }  # fmt: skip


@dataclass(frozen=True)
class Wanted:
    actuator_id: str
    operation_mode: str
    factor: float
    execution_time: float
    at_once: bool  # the plan wants it now: its time moves with the processing delay


class SentInstructions:
    """The instructions sent in a session, by id and by message id, with their status; the
    latest KEPT_RECORDS finished ones are remembered (FRBC and PEBC alike)."""

    def __init__(self, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._new_id = new_id
        self.sent: dict[str, Instruction] = {}
        self._by_message: dict[str, str] = {}

    def _sent(self, instruction: Instruction) -> None:
        self.sent[instruction.id] = instruction
        self._by_message[instruction.message_id] = instruction.id
        self._forget_old()

    def update(self, instruction_id: str, status: str) -> Instruction | None:
        """Record the RM's status of an instruction (by its id, or by its message's id)."""
        found = self.sent.get(instruction_id) or self.sent.get(
            self._by_message.get(instruction_id, "")
        )
        if found is not None:
            found.status = status
        return found

    def records(self) -> list[dict[str, Any]]:
        ordered = sorted(self.sent.values(), key=lambda i: i.execution_time)
        return [instruction.record() for instruction in ordered]

    def _forget_old(self) -> None:
        if len(self.sent) <= KEPT_RECORDS:
            return
        done = sorted((i for i in self.sent.values() if i.status in FINAL),
                      key=lambda i: i.execution_time)  # fmt: skip
        for instruction in done[: len(self.sent) - KEPT_RECORDS]:
            del self.sent[instruction.id]
            self._by_message.pop(instruction.message_id, None)


class Instructions(SentInstructions):
    def follow(
        self,
        plan_device: dict[str, Any],
        timestamps_s: Sequence[float],
        state: FrbcState,
        delay_s: float,
        now: float,
    ) -> list[dict[str, Any]]:
        """The messages that make the RM follow the plan: revocations, then instructions."""
        wanted = _wanted(plan_device, timestamps_s, state, delay_s, now)
        open_ = [i for i in self.sent.values() if i.status not in FINAL]
        kept: set[str] = set()
        new: list[Wanted] = []
        for want in wanted:
            match = next((i for i in open_ if i.id not in kept and _same(i, want)), None)
            if match is None:
                new.append(want)
            else:
                kept.add(match.id)
        messages = []
        for instruction in open_:
            if instruction.id not in kept and instruction.execution_time > now:
                instruction.status = "REVOKED"  # superseded: the RM hears it at once
                messages.append(outgoing(
                    "RevokeObject", message_id=self._new_id(), object_type="FRBC.Instruction",
                    object_id=instruction.id,
                ))  # fmt: skip
        for want in new:
            instruction = Instruction(
                self._new_id(), self._new_id(), want.actuator_id, want.operation_mode,
                want.factor, want.execution_time,
            )  # fmt: skip
            self._sent(instruction)
            messages.append(outgoing(
                "FRBC.Instruction", message_id=instruction.message_id, id=instruction.id,
                actuator_id=want.actuator_id, operation_mode=want.operation_mode,
                operation_mode_factor=want.factor, execution_time=iso_time(want.execution_time),
                abnormal_condition=False,
            ))  # fmt: skip
        return messages


def _same(sent: Instruction, want: Wanted) -> bool:
    if (sent.actuator_id, sent.operation_mode) != (want.actuator_id, want.operation_mode):
        return False
    if abs(sent.factor - want.factor) > FACTOR_TOLERANCE:
        return False
    if want.at_once:
        return sent.execution_time <= want.execution_time + SAME_TIME_S
    return abs(sent.execution_time - want.execution_time) < SAME_TIME_S


def _wanted(
    plan_device: dict[str, Any],
    timestamps_s: Sequence[float],
    state: FrbcState,
    delay_s: float,
    now: float,
) -> list[Wanted]:
    earliest = now + delay_s
    wanted: list[Wanted] = []
    for actuator_id, series in plan_device.get("actuators", {}).items():
        described = state.actuator(actuator_id)
        if described is None:
            continue
        status = state.actuators.get(actuator_id)
        mode = None if status is None else status["active_operation_mode_id"]
        factor = None if status is None else float(status["operation_mode_factor"])
        first = True
        steps = zip(timestamps_s, series["operation_mode"], series["factor"], strict=True)
        for start, planned, planned_factor in steps:
            if start > now + INSTRUCTION_HORIZON_S:
                break
            unchanged = planned == mode and (
                not _modulates(described, planned)
                or (factor is not None and abs(planned_factor - factor) <= FACTOR_TOLERANCE)
            )
            if unchanged:
                continue
            when = max(start, earliest)
            if first and mode is not None:
                when = max(when, _blocked_until(state, described, mode, planned))
            wanted = [w for w in wanted if not (w.actuator_id == actuator_id
                                                and w.execution_time >= when)]  # fmt: skip
            factor_sent = min(max(float(planned_factor), 0.0), 1.0)
            wanted.append(Wanted(actuator_id, planned, factor_sent, when, when <= earliest))
            mode, factor, first = planned, factor_sent, False
    return wanted


def _modulates(actuator: dict[str, Any], mode_id: str) -> bool:
    mode = next((m for m in actuator["operation_modes"] if m["id"] == mode_id), None)
    if mode is None:
        return False
    return any(
        element["fill_rate"]["start_of_range"] != element["fill_rate"]["end_of_range"]
        or any(r["start_of_range"] != r["end_of_range"] for r in element["power_ranges"])
        for element in mode["elements"]
    )


def _blocked_until(state: FrbcState, actuator: dict[str, Any], source: str, target: str) -> float:
    """When the timers blocking the transition source → target, as the RM reported them, end."""
    if source == target:
        return 0.0
    transition = next((t for t in actuator["transitions"]
                       if t["from"] == source and t["to"] == target), None)  # fmt: skip
    if transition is None:
        return 0.0
    ends = [
        parse_datetime(status["finished_at"], "finished_at").timestamp()
        for (actuator_id, timer_id), status in state.timers.items()
        if actuator_id == actuator["id"] and timer_id in transition["blocking_timers"]
    ]
    return max(ends, default=0.0)
