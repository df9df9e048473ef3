"""Reading a JSON request body: UTF-8 only, no duplicate keys, bounded size and depth; every
way it can be wrong is a 4xx that says how, never a 500."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .auth import TOKEN_KEY
from .errors import BodyError

JSON_TYPES = frozenset({"application/json", "text/json"})
MAX_BODY_KEY = web.AppKey("max_body_bytes", int)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise BodyError(400, "duplicate_key", f"the key {key!r} appears twice in one object")
        found[key] = value
    return found


def check_headers(request: web.Request, max_bytes: int, json_only: bool) -> None:
    """What can be refused before the body is read: its declared size, type and charset."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyError(
            413,
            "body_too_large",
            f"the body is {request.content_length} bytes, at most {max_bytes}",
        )
    charset = request.charset
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise BodyError(415, "unsupported_charset", f"JSON bodies are UTF-8, not {charset!r}")
    if json_only and request.content_type not in JSON_TYPES:
        raise BodyError(
            415, "unsupported_media_type",
            f"send the problem as application/json, not {request.content_type!r}",
        )  # fmt: skip


async def read_json(request: web.Request) -> Any:
    """The body as JSON; raises BodyError."""
    data = await request.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyError(
            400, "invalid_encoding", f"the body is not UTF-8 (byte {error.start})"
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except BodyError:
        raise
    except json.JSONDecodeError as error:
        raise BodyError(
            400, "invalid_json", f"{error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except RecursionError:
        raise BodyError(400, "invalid_json", "the JSON is nested too deeply") from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise BodyError(400, "invalid_json", str(error)) from None


async def request_json(request: web.Request) -> Any:
    """The request's body as JSON, within the service's size limit; JSON only when the service
    runs without a token (so no web page can post a form to it). Raises BodyError, which the
    error middleware answers."""
    check_headers(request, request.app[MAX_BODY_KEY], json_only=not request.app[TOKEN_KEY])
    return await read_json(request)
