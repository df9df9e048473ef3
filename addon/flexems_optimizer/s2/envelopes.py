"""From a plan to a PEBC instruction: the envelope the plan found for a device, from now on
(the next INSTRUCTION_HORIZON_S), one element per run of equal limits, in W per commodity
quantity (a limit over several quantities is shared equally). A new plan whose envelope
differs sends a new instruction and revokes the one it supersedes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from ..store import iso_time
from .instructions import FINAL, INSTRUCTION_HORIZON_S, Instruction, SentInstructions
from .messages import outgoing

LIMIT_TOLERANCE_W = 1.0


class Envelopes(SentInstructions):
    def __init__(self, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        super().__init__(new_id)
        self._last: list[tuple[str | None, float, float]] | None = None  # what was asked

    def follow(
        self,
        plan_device: dict[str, Any],
        timestamps_s: Sequence[float],
        step_s: float,
        delay_s: float,
        now: float,
    ) -> list[dict[str, Any]]:
        envelope = plan_device.get("envelope") or {}
        quantities = plan_device.get("commodity_quantities") or []
        start = now + delay_s
        wanted: list[tuple[str | None, float, float, float]] = []  # (constraints, ms, low, high)
        for index, moment in enumerate(timestamps_s):
            end = moment + step_s
            if end <= start or moment > now + INSTRUCTION_HORIZON_S:
                continue
            low, high = envelope["lower_kw"][index], envelope["upper_kw"][index]
            constraints = plan_device["constraints"][index]
            if low is None or high is None or constraints is None:
                break  # no constraints in force from here: the device follows its forecast
            length_ms = (end - max(moment, start)) * 1000.0
            if wanted and wanted[-1][0] == constraints and _same(wanted[-1], low, high):
                last = wanted[-1]
                wanted[-1] = (last[0], last[1] + length_ms, last[2], last[3])
            else:
                wanted.append((constraints, length_ms, low * 1000.0, high * 1000.0))
        if not wanted or not quantities:
            return []
        summary = [(c, low, high) for c, _, low, high in wanted]
        if self._last is not None and _alike(self._last, summary):
            return []
        self._last = summary
        messages = [
            outgoing("RevokeObject", message_id=self._new_id(), object_type="PEBC.Instruction",
                     object_id=instruction.id)
            for instruction in self.sent.values() if instruction.status not in FINAL
        ]  # fmt: skip
        for instruction in self.sent.values():
            instruction.status = (
                "REVOKED" if instruction.status not in FINAL else instruction.status
            )
        constraints_id = wanted[0][0]
        assert constraints_id is not None
        elements = [w for w in wanted if w[0] == constraints_id]  # one constraints set each
        instruction = Instruction(self._new_id(), self._new_id(), "", "envelope", 0.0, start)
        self._sent(instruction)
        share = 1.0 / len(quantities)
        messages.append(outgoing(
            "PEBC.Instruction", message_id=instruction.message_id, id=instruction.id,
            execution_time=iso_time(start), abnormal_condition=False,
            power_constraints_id=constraints_id,
            power_envelopes=[{
                "id": self._new_id(), "commodity_quantity": quantity,
                "power_envelope_elements": [
                    {"duration": max(1, round(ms)), "lower_limit": low * share,
                     "upper_limit": max(high, low) * share}
                    for _, ms, low, high in elements
                ],
            } for quantity in quantities],
        ))  # fmt: skip
        return messages


def _same(last: tuple[str | None, float, float, float], low: float, high: float) -> bool:
    return (
        abs(last[2] - low * 1000.0) < LIMIT_TOLERANCE_W
        and abs(last[3] - high * 1000.0) < LIMIT_TOLERANCE_W
    )


def _alike(
    before: list[tuple[str | None, float, float]], now: list[tuple[str | None, float, float]]
) -> bool:
    """The same limits in the same order (their lengths shrink as time passes)."""
    return len(before) == len(now) and all(
        a[0] == b[0]
        and abs(a[1] - b[1]) < LIMIT_TOLERANCE_W
        and abs(a[2] - b[2]) < LIMIT_TOLERANCE_W
        for a, b in zip(before, now, strict=True)
    )
