"""/api/v1/s2: the S2 endpoint. Resource Managers connect over a WebSocket with a bearer token
(never anonymously, also not through ingress) and attach to the token's site (`home` for the
service token). Every frame is answered at once; planning never runs on this path. Each new
plan of the site reaches the connection's device as instructions (a task per connection)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aiohttp import WSMsgType, web

from ..problem.timing import parse_datetime, parse_duration
from ..s2.devices import S2Devices
from ..s2.session import (
    NOT_CONTROLLABLE,
    CemSession,
    Controlled,
    Described,
    Instructed,
    Reaction,
    Reported,
)
from ..s2.site_inputs import s2_part
from ..s2.tokens import S2Tokens
from ..sites.planner import SitePlanner
from ..store import iso_time
from .auth import TOKEN_KEY, is_token
from .body import request_json
from .errors import error_response
from .sites import PLANNER_KEY, SITE_ID

S2_DEVICES_KEY = web.AppKey("s2_devices", S2Devices)
S2_TOKENS_KEY = web.AppKey("s2_tokens", S2Tokens)
SERVICE_SITE = "home"
MAX_FRAME_BYTES = 1024 * 1024  # larger frames close the session (1009, "message too big")
PING_INTERVAL_S = 50.0  # S2: pings no more often than every 50 s
routes = web.RouteTableDef()


def _bearer(request: web.Request) -> str | None:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return given if scheme.lower() == "bearer" and given else None


def _site_of(request: web.Request) -> str | None:
    """The site a connection attaches to: `home` for the service token, the paired site for a
    device token; None for anything else (also through ingress, also without a service
    token: S2 is never anonymous)."""
    given = _bearer(request)
    if given is None:
        return None
    token = request.app[TOKEN_KEY]
    if token and is_token(given, token):
        return SERVICE_SITE
    grant = request.app[S2_TOKENS_KEY].device(given)
    return None if grant is None else grant.site


def _unauthorized(what: str) -> web.Response:
    return error_response(
        401, "unauthorized", f"{what} needs 'Authorization: Bearer <token>' with a valid token",
        headers={"WWW-Authenticate": "Bearer"},
    )  # fmt: skip


def _s2_url(request: web.Request) -> str:
    scheme = "wss" if request.secure else "ws"
    return f"{scheme}://{request.host}/api/v1/s2"


@routes.post("/api/v1/s2/pairings")
async def create_pairing(request: web.Request) -> web.Response:
    """A one-time pairing token for one device (service token only): give it to the device's
    installer with the URL; it is good for 15 minutes."""
    body = await request_json(request)
    if not isinstance(body, dict):
        return error_response(422, "invalid_type", "a pairing is {site, label}")
    site, label = body.get("site", SERVICE_SITE), body.get("label")
    if not isinstance(site, str) or not SITE_ID.match(site):
        return error_response(422, "invalid_site", "site: 1 to 64 of a-z, 0-9, '-', '_'", "site")
    if not isinstance(label, str) or not 1 <= len(label) <= 100:
        return error_response(
            422, "invalid_label", "label: the device's name for people, 1 to 100 characters",
            "label",
        )  # fmt: skip
    token, expires_at = request.app[S2_TOKENS_KEY].pair(site, label, time.time())
    answer = {"token": token, "url": _s2_url(request), "site": site, "label": label,
              "expires_at": iso_time(expires_at)}  # fmt: skip
    return web.json_response(answer, status=201)


@routes.post("/api/v1/s2/tokens")
async def exchange_pairing(request: web.Request) -> web.Response:
    """A device exchanges its pairing token (as the bearer) for its own device token, once."""
    given = _bearer(request)
    found = None if given is None else request.app[S2_TOKENS_KEY].exchange(given, time.time())
    if found is None:
        return _unauthorized("exchanging a pairing token (unused, within 15 minutes)")
    token, grant = found
    answer = {"token": token, "url": _s2_url(request), "site": grant.site, "label": grant.label}
    return web.json_response(answer, status=201)


@routes.get("/api/v1/s2")
async def s2_endpoint(request: web.Request) -> web.StreamResponse:
    site = _site_of(request)
    if site is None:
        return _unauthorized("an S2 connection")
    ws = web.WebSocketResponse(heartbeat=PING_INTERVAL_S, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    connection = _Connection(ws, site, request.app[S2_DEVICES_KEY], request.app[PLANNER_KEY])
    await connection.run()
    return ws


class _Connection:
    """One RM's WebSocket: frames in → reactions out, and plans in → instructions out. Both
    run on the event loop and share the session; a lock keeps their frames whole."""

    def __init__(
        self, ws: web.WebSocketResponse, site: str, devices: S2Devices, planner: SitePlanner
    ) -> None:
        self.ws = ws
        self.site = site
        self.devices = devices
        self.planner = planner
        self.session = CemSession()
        self._sending = asyncio.Lock()

    async def run(self) -> None:
        plans = self.planner.subscribe(self.site)
        follower = asyncio.create_task(self._follow(plans))
        try:
            await self._send(self.session.start())
            async for frame in self.ws:
                if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break  # an error (e.g. a frame over the limit): aiohttp has closed with why
                reaction = self.session.receive(frame.data)
                await self._send(reaction.send)
                self._keep(reaction)
                if reaction.close is not None:
                    await self.ws.close(message=reaction.close[:120].encode())
                    break
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            self.planner.unsubscribe(self.site, plans)
            if self.session.resource_id is not None:
                self.devices.disconnected(self.site, self.session.resource_id, time.time())
                # Its FRBC part leaves the plan while it cannot follow instructions.
                self.planner.changed(self.site)
                self.planner.devices_changed(self.site)

    async def _send(self, messages: list[dict[str, Any]]) -> None:
        async with self._sending:
            for message in messages:
                await self.ws.send_json(message)

    def _keep(self, reaction: Reaction) -> None:
        """Store what the RM said; re-plan when it changes what the plan may do."""
        replan = publish = False
        now = time.time()
        for event in reaction.events:
            if isinstance(event, Described):
                self.devices.described(self.site, event.resource_id, event.details,
                                       event.control_type, now)  # fmt: skip
                replan = True
            elif isinstance(event, Reported):
                self.devices.reported(self.site, event.resource_id, event.message, now)
                # A forecast of a device outside flexems' control is the site's load.
                forecast = event.message["message_type"] == "PowerForecast"
                replan |= forecast and self.session.control_type == NOT_CONTROLLABLE
            elif isinstance(event, Controlled):
                self.devices.controlled(self.site, event.resource_id, event.entry, now)
                replan = True
            elif isinstance(event, Instructed):
                self.devices.instructed(self.site, event.resource_id, event.records)
                replan |= event.replan
                publish = True
        if replan:
            self.planner.changed(self.site)  # a site not (yet) stored is not planned
        elif publish:
            self.planner.devices_changed(self.site)

    async def _follow(self, plans: asyncio.Queue[dict[str, Any]]) -> None:
        """Each new plan of the site: the device's instructions, if it is part of the plan."""
        while True:
            event = await plans.get()
            resource_id = self.session.resource_id
            if event["type"] != "plan" or resource_id is None:
                continue
            plan = event["plan"]
            part = s2_part(plan, resource_id)
            if part is None or not ("actuators" in part or "envelope" in part):
                continue
            starts = [parse_datetime(t, "timestamps").timestamp() for t in plan["timestamps"]]
            step_s = parse_duration(plan["resolution"], "resolution").total_seconds()
            reaction = self.session.instruct(part, starts, step_s, time.time())
            try:
                await self._send(reaction.send)
            except ConnectionError:
                return  # the RM has gone: the session ends on the reading side
            self._keep(reaction)
