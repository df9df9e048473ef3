"""/api/v1/s2: the S2 endpoint. Resource Managers connect over a WebSocket with a bearer token
(never anonymously, also not through ingress) and attach to the token's site (`home` for the
service token). Every frame is answered at once; planning never runs on this path."""

from __future__ import annotations

import hmac
import logging
import time

from aiohttp import WSMsgType, web

from ..s2.devices import S2Devices
from ..s2.session import NOT_CONTROLLABLE, CemSession, Described, Reported
from .auth import TOKEN_KEY
from .errors import error_response
from .sites import PLANNER_KEY

LOGGER = logging.getLogger(__name__)
S2_DEVICES_KEY = web.AppKey("s2_devices", S2Devices)
SERVICE_SITE = "home"
MAX_FRAME_BYTES = 1024 * 1024  # larger frames close the session (1009, "message too big")
PING_INTERVAL_S = 50.0  # S2: pings no more often than every 50 s
routes = web.RouteTableDef()


def _authorized(request: web.Request) -> bool:
    token = request.app[TOKEN_KEY]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode())
    )


@routes.get("/api/v1/s2")
async def s2_endpoint(request: web.Request) -> web.StreamResponse:
    if not _authorized(request):
        return error_response(
            401, "unauthorized", "an S2 connection needs 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    site = SERVICE_SITE
    devices = request.app[S2_DEVICES_KEY]
    planner = request.app[PLANNER_KEY]
    ws = web.WebSocketResponse(heartbeat=PING_INTERVAL_S, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    session = CemSession()
    for message in session.start():
        await ws.send_json(message)
    try:
        async for frame in ws:
            if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break  # an error (e.g. a frame over the limit): aiohttp has closed with why
            reaction = session.receive(frame.data)
            for message in reaction.send:
                await ws.send_json(message)
            replan = False
            for event in reaction.events:
                now = time.time()
                if isinstance(event, Described):
                    devices.described(site, event.resource_id, event.details,
                                      event.control_type, now)  # fmt: skip
                    replan = True
                elif isinstance(event, Reported):
                    devices.reported(site, event.resource_id, event.message, now)
                    # A forecast of a device outside flexems' control is the site's load.
                    forecast = event.message["message_type"] == "PowerForecast"
                    replan |= forecast and session.control_type == NOT_CONTROLLABLE
            if replan and planner.store.get(site) is not None:
                planner.changed(site)
            if reaction.close is not None:
                await ws.close(message=reaction.close[:120].encode())
                break
    finally:
        if session.resource_id is not None:
            devices.disconnected(site, session.resource_id, time.time())
    return ws
