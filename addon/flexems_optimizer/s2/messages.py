"""S2 messages read strictly: JSON, then the schema-faithful models of `s2-python`'s generated
module (string ids as the schema allows, no extra fields), then what the schema cannot say."""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from s2python.generated import gen_s2

PROTOCOL_VERSION = "0.0.2-beta"
NO_MESSAGE = "00000000-0000-0000-0000-000000000000"  # the subject of INVALID_DATA


def _models() -> dict[str, type[BaseModel]]:
    """Every message model by its `message_type` (the models' Literal default)."""
    found: dict[str, type[BaseModel]] = {}
    for value in vars(gen_s2).values():
        if not (isinstance(value, type) and issubclass(value, BaseModel)):
            continue
        field = value.model_fields.get("message_type")
        if field is None or typing.get_origin(field.annotation) is not typing.Literal:
            continue
        (name,) = typing.get_args(field.annotation)
        found[name] = value
    return found


MODELS = _models()


@dataclass(frozen=True)
class Invalid:
    """Why a frame is not a message: `status` for its ReceptionStatus, about `subject`."""

    status: str  # INVALID_DATA or INVALID_MESSAGE
    subject: str
    diagnostic: str


@dataclass(frozen=True)
class Message:
    type: str
    id: str | None  # None only for ReceptionStatus
    body: dict[str, Any]


def read(frame: str | bytes) -> Message | Invalid:
    try:
        body = json.loads(frame)
    except (ValueError, UnicodeDecodeError) as error:
        return Invalid("INVALID_DATA", NO_MESSAGE, f"not JSON: {error}")
    if not isinstance(body, dict):
        return Invalid("INVALID_DATA", NO_MESSAGE, "a message is a JSON object")
    raw_id = body.get("message_id")
    subject = raw_id if isinstance(raw_id, str) and raw_id else NO_MESSAGE
    kind = body.get("message_type")
    model = MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        return Invalid("INVALID_MESSAGE", subject, f"unknown message_type {kind!r}")
    try:
        model.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return Invalid("INVALID_MESSAGE", subject, f"{kind}: {where}: {first['msg']}")
    return Message(str(kind), raw_id if kind != "ReceptionStatus" else None, body)


def outgoing(kind: str, **fields: Any) -> dict[str, Any]:
    """A message the CEM sends, checked against its model (a bug of ours fails loudly)."""
    body = {"message_type": kind, **fields}
    MODELS[kind].model_validate(body)
    return body
