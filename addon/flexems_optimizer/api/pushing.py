"""The server side of a push-only WebSocket (a site's or a community's events): the server
sends, the client only listens."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from aiohttp import WSMsgType, web


async def push_until_closed(ws: web.WebSocketResponse, push: Coroutine[Any, Any, None]) -> None:
    """Run `push` (what the server sends) until the client closes the connection; what the
    client sends is read (so pings and the close are answered) and ignored."""
    sender = asyncio.create_task(push)
    try:
        async for message in ws:
            if message.type is WSMsgType.ERROR:
                break
    finally:
        sender.cancel()
