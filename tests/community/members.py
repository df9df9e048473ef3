"""What the community tests ask of a member's add-on."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.api.server import Server


def membership_when(
    member: Server, done: Callable[[dict[str, Any]], bool], timeout_s: float = 30
) -> dict[str, Any]:
    """The site's membership (`GET /api/v1/sites/home/community`) once `done` says so; the
    member hears its host every second."""
    deadline = time.monotonic() + timeout_s
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = dict(member.request("GET", "/api/v1/sites/home/community").body)
        if done(status):
            return status
        time.sleep(0.3)
    raise AssertionError(f"the membership stayed {status}")
