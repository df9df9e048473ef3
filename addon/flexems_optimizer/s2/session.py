"""One S2 session, CEM side, as a state machine without I/O: frames in, messages out.

Rules (S2.md, "Interop rules"): the CEM sends its Handshake first; every message except a
ReceptionStatus gets exactly one ReceptionStatus; a SelectControlType follows every
ResourceManagerDetails, naming only a type the RM listed; control-type messages only once
their type is active and only about ids the RM described; power measurements only of announced
commodity quantities. FRBC devices get instructions from each new plan (s2/instructions.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .envelopes import Envelopes
from .frbc import FRBC, KEYS, FrbcState
from .instructions import Instructions
from .messages import PROTOCOL_VERSION, Invalid, Message, outgoing, read
from .pebc import KEYS as PEBC_KEYS
from .pebc import PEBC, PebcState

NOT_CONTROLLABLE = "NOT_CONTROLABLE"  # sic: the standard's spelling
NO_SELECTION = "NO_SELECTION"
# The control types flexems plans, best first (OMBC, PPBC and DDBC: part 2).
PLANNED_TYPES = (FRBC, PEBC, NOT_CONTROLLABLE)
CONTROL_TYPE_OF_PREFIX = {
    "FRBC.": "FILL_RATE_BASED_CONTROL",
    "PEBC.": "POWER_ENVELOPE_BASED_CONTROL",
    "OMBC.": "OPERATION_MODE_BASED_CONTROL",
    "PPBC.": "POWER_PROFILE_BASED_CONTROL",
    "DDBC.": "DEMAND_DRIVEN_BASED_CONTROL",
}
CEM_ONLY = frozenset({
    "HandshakeResponse", "SelectControlType", "FRBC.Instruction", "PEBC.Instruction",
    "OMBC.Instruction", "DDBC.Instruction", "PPBC.ScheduleInstruction",
    "PPBC.StartInterruptionInstruction", "PPBC.EndInterruptionInstruction",
})  # fmt: skip


@dataclass(frozen=True)
class Described:
    """The RM said who it is and what it can do; flexems chose a control type."""

    resource_id: str
    details: dict[str, Any]
    control_type: str


@dataclass(frozen=True)
class Reported:
    """A measurement or forecast of the device's power (any control type, any time)."""

    resource_id: str
    message: dict[str, Any]


@dataclass(frozen=True)
class Controlled:
    """What the device may do changed: its `s2-frbc` entry now (None: nothing to plan)."""

    resource_id: str
    entry: dict[str, Any] | None


@dataclass(frozen=True)
class Instructed:
    """The device's instructions changed (sent, revoked, or the RM reported a status);
    `replan` when the RM did not do what was asked (rejected, aborted)."""

    resource_id: str
    records: list[dict[str, Any]]
    replan: bool = False


Event = Described | Reported | Controlled | Instructed


@dataclass
class Reaction:
    send: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    close: str | None = None  # a reason: the session ends after sending


class CemSession:
    def __init__(self, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._new_id = new_id
        self.version: str | None = None
        self.details: dict[str, Any] | None = None
        self.control_type: str | None = None
        self.frbc = FrbcState()
        self.pebc = PebcState()
        self.instructions = Instructions(new_id)
        self.envelopes = Envelopes(new_id)
        self._handlers: dict[str, Callable[[Message], Reaction]] = {
            "Handshake": self._handshake,
            "ResourceManagerDetails": self._details,
            "PowerMeasurement": self._measurement,
            "PowerForecast": self._forecast,
            "InstructionStatusUpdate": self._instruction_status,
            "RevokeObject": self._revoke,
            "SessionRequest": self._session_request,
            **dict.fromkeys([*KEYS, *PEBC_KEYS], self._control),
        }

    @property
    def resource_id(self) -> str | None:
        return None if self.details is None else str(self.details["resource_id"])

    def start(self) -> list[dict[str, Any]]:
        """What the CEM sends as soon as the connection is open."""
        return [
            outgoing(
                "Handshake", message_id=self._new_id(), role="CEM",
                supported_protocol_versions=[PROTOCOL_VERSION],
            )
        ]  # fmt: skip

    def receive(self, frame: str | bytes) -> Reaction:
        message = read(frame)
        if isinstance(message, Invalid):
            return Reaction([self._status(message.subject, message.status, message.diagnostic)])
        if message.type == "ReceptionStatus":
            return Reaction()  # never answered
        assert message.id is not None
        if message.type in CEM_ONLY:
            return self._refuse(message, f"{message.type} is sent by the CEM, not the RM")
        if message.type != "Handshake" and self.version is None:
            return self._refuse(message, "send a Handshake first")
        prefix = next((p for p in CONTROL_TYPE_OF_PREFIX if message.type.startswith(p)), None)
        if prefix is not None and CONTROL_TYPE_OF_PREFIX[prefix] != self.control_type:
            return self._refuse(
                message, f"{CONTROL_TYPE_OF_PREFIX[prefix]} is not the active control type "
                f"({self.control_type or 'none selected'})",
            )  # fmt: skip
        handler = self._handlers.get(message.type)
        if handler is None:
            return self._refuse(message, f"{message.type} is not handled in this session")
        return handler(message)

    def _handshake(self, message: Message) -> Reaction:
        body = message.body
        if body["role"] != "RM":
            return self._refuse(message, "this endpoint is the CEM: the peer's role is RM")
        offered = body.get("supported_protocol_versions") or []
        if PROTOCOL_VERSION not in offered:
            why = f"no common protocol version: the CEM speaks {PROTOCOL_VERSION}, not {offered}"
            reaction = self._refuse(message, why)
            terminate = outgoing(
                "SessionRequest", message_id=self._new_id(), request="TERMINATE",
                diagnostic_label=why,
            )  # fmt: skip
            reaction.send.append(terminate)
            reaction.close = why
            return reaction
        self.version = PROTOCOL_VERSION
        return Reaction([
            self._ok(message),
            outgoing("HandshakeResponse", message_id=self._new_id(),
                     selected_protocol_version=PROTOCOL_VERSION),
        ])  # fmt: skip

    def _details(self, message: Message) -> Reaction:
        details = message.body
        if self.details is not None and details["resource_id"] != self.resource_id:
            return self._refuse(message, "one resource per session: reconnect for another")
        offered = details["available_control_types"]
        chosen = next((kind for kind in PLANNED_TYPES if kind in offered), NO_SELECTION)
        events: list[Event] = [Described(details["resource_id"], details, chosen)]
        if chosen != self.control_type and self._entry() is not None:
            # Another control type: what the device said under the old one no longer holds.
            self.frbc, self.pebc = FrbcState(), PebcState()
            events.append(Controlled(details["resource_id"], None))
        self.details, self.control_type = details, chosen
        select = outgoing("SelectControlType", message_id=self._new_id(), control_type=chosen)
        return Reaction([self._ok(message), select], events)

    def _measurement(self, message: Message) -> Reaction:
        if self.details is None:
            return self._refuse(message, "send ResourceManagerDetails first")
        announced = set(self.details.get("provides_power_measurement_types") or [])
        measured = {value["commodity_quantity"] for value in message.body["values"]}
        if not measured <= announced:
            unknown = ", ".join(sorted(measured - announced))
            return self._refuse(message, f"{unknown} was not announced in "
                                "provides_power_measurement_types")  # fmt: skip
        return self._report(message)

    def _forecast(self, message: Message) -> Reaction:
        if self.details is None:
            return self._refuse(message, "send ResourceManagerDetails first")
        reaction = self._report(message)
        if self.control_type == PEBC:  # what an envelope starts from
            self.pebc.forecast = message.body
            reaction.events.append(Controlled(str(self.resource_id), self._entry()))
        return reaction

    def _control(self, message: Message) -> Reaction:
        """An FRBC or PEBC message (its control type is active): kept, or refused saying why."""
        state = self.frbc if message.type.startswith("FRBC.") else self.pebc
        problem = state.apply(message.body)
        if problem is not None:
            return self._refuse(message, problem)
        assert self.resource_id is not None
        return Reaction([self._ok(message)], [Controlled(self.resource_id, self._entry())])

    def _entry(self) -> dict[str, Any] | None:
        """The device's flex-model entry as its control type has it (None: not plannable)."""
        if self.control_type == FRBC:
            return self.frbc.entry()
        if self.control_type == PEBC:
            return self.pebc.entry()
        return None

    def _revoke(self, message: Message) -> Reaction:
        kind, object_id = message.body["object_type"], message.body["object_id"]
        if not (self.frbc.revoke(kind, object_id) or self.pebc.revoke(kind, object_id)):
            return self._refuse(message, f"no {kind} {object_id!r} to revoke in this session")
        assert self.resource_id is not None
        return Reaction([self._ok(message)], [Controlled(self.resource_id, self._entry())])

    def _instruction_status(self, message: Message) -> Reaction:
        status, named = message.body["status_type"], message.body["instruction_id"]
        found = self.instructions.update(named, status) or self.envelopes.update(named, status)
        if found is None:
            return self._refuse(message, "no instruction with this id was sent in this session")
        assert self.resource_id is not None
        records = self._records()
        replan = status in ("REJECTED", "ABORTED")
        return Reaction([self._ok(message)], [Instructed(self.resource_id, records, replan)])

    def instruct(
        self, plan_device: dict[str, Any], timestamps_s: Sequence[float], step_s: float,
        now: float,
    ) -> Reaction:  # fmt: skip
        """Instructions (and revocations) that make the device follow its part of a plan."""
        if self.details is None or self.resource_id is None:
            return Reaction()
        delay_s = float(self.details.get("instruction_processing_delay", 0)) / 1000.0
        if self.control_type == FRBC:
            sent = self.instructions.follow(plan_device, timestamps_s, self.frbc, delay_s, now)
        elif self.control_type == PEBC:
            sent = self.envelopes.follow(plan_device, timestamps_s, step_s, delay_s, now)
        else:
            return Reaction()
        if not sent:
            return Reaction()
        return Reaction(sent, [Instructed(self.resource_id, self._records())])

    def _records(self) -> list[dict[str, Any]]:
        return self.instructions.records() + self.envelopes.records()

    def _session_request(self, message: Message) -> Reaction:
        request = message.body["request"]
        reaction = Reaction([self._ok(message)])
        reaction.close = f"the RM asked to {request.lower()}"
        return reaction

    def _report(self, message: Message) -> Reaction:
        assert self.resource_id is not None
        return Reaction([self._ok(message)], [Reported(self.resource_id, message.body)])

    def _ok(self, message: Message) -> dict[str, Any]:
        assert message.id is not None
        return self._status(message.id, "OK")

    def _refuse(self, message: Message, why: str) -> Reaction:
        assert message.id is not None
        return Reaction([self._status(message.id, "INVALID_CONTENT", why)])

    @staticmethod
    def _status(subject: str, status: str, diagnostic: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"subject_message_id": subject, "status": status}
        if diagnostic:
            fields["diagnostic_label"] = diagnostic[:500]
        return outgoing("ReceptionStatus", **fields)
