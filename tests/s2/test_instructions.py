"""From a plan to FRBC instructions, without I/O: when they take effect, what a new plan keeps
and revokes, and that no instruction breaks a timer the RM reports running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from flexems_optimizer.s2 import examples
from flexems_optimizer.s2.frbc import KEYS, FrbcState
from flexems_optimizer.s2.instructions import Instructions

NOW = datetime(2026, 12, 1, 10, 5, tzinfo=UTC)
STEP_S = 900.0
STEPS = [(NOW.replace(minute=0) + timedelta(minutes=15 * i)).timestamp() for i in range(8)]


def _state(**kwargs: Any) -> FrbcState:
    state = FrbcState()
    kinds = {key: kind for kind, key in KEYS.items()}
    for key, value in examples.heat_pump(NOW - timedelta(days=1), **kwargs).items():
        for body in value if isinstance(value, list) else [value]:
            assert state.apply({**body, "message_type": kinds[key]}) is None
    return state


def _plan(modes: list[str]) -> dict[str, Any]:
    return {"actuators": {"hp0": {"operation_mode": modes, "factor": [0.0] * len(modes)}}}


def _instructions() -> Instructions:
    ids = count()
    return Instructions(lambda: f"id-{next(ids)}")


def test_changes_take_effect_at_their_step_but_not_before_the_processing_delay() -> None:
    follow = _instructions()
    sent = follow.follow(_plan(["om0"] * 3 + ["om1"] * 5), STEPS, _state(), 10.0, NOW.timestamp())
    assert [(m["operation_mode"], m["execution_time"]) for m in sent] == [
        ("om0", "2026-12-01T10:05:10.000Z"),  # now: after its 10 s delay
        ("om1", "2026-12-01T10:45:00.000Z"),  # at its step
    ]
    # The same plan again: nothing new; another: the pending stop is revoked, a new one sent.
    assert follow.follow(_plan(["om0"] * 3 + ["om1"] * 5), STEPS, _state(), 10.0,
                         NOW.timestamp() + 1) == []  # fmt: skip
    later = follow.follow(_plan(["om0"] * 5 + ["om1"] * 3), STEPS, _state(), 10.0,
                          NOW.timestamp() + 2)  # fmt: skip
    assert [m["message_type"] for m in later] == ["RevokeObject", "FRBC.Instruction"]
    assert later[0]["object_id"] == sent[1]["id"]
    assert later[1]["execution_time"] == "2026-12-01T11:15:00.000Z"
    statuses = {r["id"]: r["status"] for r in follow.records()}
    assert statuses[sent[1]["id"]] == "REVOKED" and statuses[sent[0]["id"]] == "SENT"


def test_no_instruction_breaks_a_timer_the_rm_reports_running() -> None:
    # The RM says its minimum pause runs until 10:40: a start planned at 10:15 waits for it.
    state = _state(timers_finish={"min-off": NOW.replace(minute=40)})
    sent = _instructions().follow(_plan(["om1", "om0", "om0", "om0"] + ["om0"] * 4), STEPS,
                                  state, 10.0, NOW.timestamp())  # fmt: skip
    assert [(m["operation_mode"], m["execution_time"]) for m in sent] == [
        ("om0", "2026-12-01T10:40:00.000Z")
    ]


def test_an_unchanged_mode_needs_no_instruction_and_the_rm_may_use_the_message_id() -> None:
    follow = _instructions()
    assert follow.follow(_plan(["om1"] * 8), STEPS, _state(), 10.0, NOW.timestamp()) == []
    (sent,) = follow.follow(_plan(["om1", "om0"] + ["om0"] * 6), STEPS, _state(), 10.0,
                            NOW.timestamp())  # fmt: skip
    assert follow.update(sent["message_id"], "ACCEPTED") is not None
    assert follow.update("nobody", "ACCEPTED") is None
    assert follow.records()[0]["status"] == "ACCEPTED"
