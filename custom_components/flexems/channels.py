"""Following one of the add-on's events channels (a WebSocket) for as long as the entry is
loaded: each event to whoever takes it, and after a drop a new connection with growing pauses,
so an add-on that restarts or goes away is followed again when it is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

from .client import FlexEmsError
from .const import DOMAIN, LOGGER

RECONNECT_DELAYS_S: Final = (1.0, 2.0, 5.0, 15.0, 60.0)
# In the name of every task that follows a channel: it runs for the entry's lifetime.
FOLLOWING: Final = "pushed by the add-on"


def task_name(what: str) -> str:
    return f"{DOMAIN} {what} {FOLLOWING}"


async def follow(
    channel: Callable[[], AsyncIterator[dict[str, Any]]],
    take: Callable[[dict[str, Any]], None],
    connected: Callable[[bool], None] = lambda _: None,
) -> None:
    """Open `channel` again and again; `take` each event, `connected` on each event (True) and
    when the channel drops (False)."""
    failures = 0
    while True:
        try:
            async for event in channel():
                failures = 0
                connected(True)
                take(event)
        except FlexEmsError as error:
            LOGGER.debug("An events channel of the add-on: %s", error)
        connected(False)
        await asyncio.sleep(RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S) - 1)])
        failures += 1
