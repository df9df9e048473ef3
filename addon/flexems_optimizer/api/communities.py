"""/api/v1/communities: this add-on hosting communities of sites that share a connection.

The host (the add-on's token) creates a community, makes one-time invites and sees members,
rounds, the aggregate and breaches. A member joins with an invite and gets its own token (kept
hashed); with it, it reads its round and signals, posts its net profile, reads its report, or
leaves: only ever its own. Members behind NAT only make outgoing requests (they poll the round).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from aiohttp import web

from ..community.host import CommunityHost
from ..community.store import MemberRecord
from ..problem.errors import ProblemError
from ..problem.timing import parse_duration
from ..store import iso_time
from .auth import TOKEN_KEY, is_token
from .body import request_json
from .errors import error_response
from .ingress import INGRESS_PROXY
from .pushing import push_until_closed

HOST_KEY = web.AppKey("community_host", CommunityHost)
COMMUNITY_ID = re.compile(r"^c[0-9a-f]{12}$")
MAX_INVITE_S = 30 * 86400
# The host's view on its events channel: looked at this often, sent when it changed. Rounds
# take seconds; a member's `last_seen` and the view's `checked_at` change every time and are
# not news on their own. Making the view costs about 0.15 ms per member on the event loop (300
# members: 45 ms), so a large community is looked at less often: at most a twentieth of the
# loop's time per listener.
EVENTS_CHECK_S = 1.0
EVENTS_LOOP_SHARE = 20.0
EVENTS_HEARTBEAT_S = 50.0
_NOT_NEWS = ("checked_at", "last_seen")
routes = web.RouteTableDef()


class _DeniedError(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def _bearer(request: web.Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" and value else None


def _is_host(request: web.Request) -> bool:
    token = request.app[TOKEN_KEY]
    given = _bearer(request)
    return (
        not token
        or request.remote == INGRESS_PROXY
        or (given is not None and is_token(given, token))
    )


def _unauthorized() -> web.Response:
    return error_response(
        401, "unauthorized",
        "this needs 'Authorization: Bearer <token>' (a member's or the host's)",
        headers={"WWW-Authenticate": "Bearer"},
    )  # fmt: skip


def _community(request: web.Request) -> str:
    community = request.match_info["community"]
    if not COMMUNITY_ID.match(community) or request.app[HOST_KEY].settings(community) is None:
        raise web.HTTPNotFound(text=f"no community {community!r} on this host")
    return community


def _host_only(request: web.Request) -> None:
    if _is_host(request):
        return
    if _bearer(request) is None:
        raise _DeniedError(_unauthorized())
    raise _DeniedError(error_response(403, "forbidden", "only the community's host may do this"))


def _member(request: web.Request, community: str, member: str | None = None) -> MemberRecord:
    """The member whose token this is; 403 for a member of another community, or another
    member than the one in the path."""
    token = _bearer(request)
    if token is None:
        raise _DeniedError(_unauthorized())
    record = request.app[HOST_KEY].member(token)
    if record is None:
        raise _DeniedError(error_response(
            401, "invalid_token", "not a member's token on this host (left or removed?)",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ))  # fmt: skip
    if record.community != community or (member is not None and record.id != member):
        raise _DeniedError(
            error_response(403, "forbidden", "a member may only read and write its own")
        )
    return record


def _guarded(handler: Any) -> Any:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except _DeniedError as denied:
            return denied.response
        return response

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


@routes.post("/api/v1/communities")
@_guarded
async def create_community(request: web.Request) -> web.Response:
    _host_only(request)
    host = request.app[HOST_KEY]
    community = host.create(await request_json(request))
    return web.json_response(host.overview(community), status=201)


@routes.get("/api/v1/communities")
@_guarded
async def list_communities(request: web.Request) -> web.Response:
    _host_only(request)
    host = request.app[HOST_KEY]
    found = []
    for community in host.store.ids():
        overview = host.overview(community)
        found.append({key: overview[key] for key in ("community", "name", "round", "status")}
                     | {"members": len(overview["members"])})  # fmt: skip
    return web.json_response({"communities": found})


@routes.get("/api/v1/communities/{community}")
@_guarded
async def get_community(request: web.Request) -> web.Response:
    _host_only(request)
    return web.json_response(request.app[HOST_KEY].overview(_community(request)))


@routes.get("/api/v1/communities/{community}/events")
@_guarded
async def community_events(request: web.Request) -> web.StreamResponse:
    """A WebSocket that sends the host's view of the community (the body of `GET
    /api/v1/communities/{community}`) at once, then whenever it changes (members, stale, the
    round and its status, the aggregate, breaches), as `{type: "community", community, view}`;
    `view: null` when the community is no longer hosted. It reads nothing from the client."""
    _host_only(request)
    community = _community(request)
    host = request.app[HOST_KEY]
    ws = web.WebSocketResponse(heartbeat=EVENTS_HEARTBEAT_S, max_msg_size=64 * 1024)
    await ws.prepare(request)

    async def forward() -> None:
        sent: dict[str, Any] | None = None
        while not ws.closed:
            started = time.perf_counter()
            view = host.overview(community) if host.settings(community) is not None else None
            took = time.perf_counter() - started
            news = None if view is None else _news_of(view)
            if sent is None or news != sent:  # a view gone (None) differs from any sent
                await ws.send_json({"type": "community", "community": community, "view": view})
                if view is None:
                    await ws.close()
                    return
                sent = news
            await asyncio.sleep(max(EVENTS_CHECK_S, took * EVENTS_LOOP_SHARE))

    await push_until_closed(ws, forward())
    return ws


def _news_of(view: dict[str, Any]) -> dict[str, Any]:
    """The view without what changes every time it is looked at."""
    members = [{k: v for k, v in m.items() if k not in _NOT_NEWS} for m in view["members"]]
    return {k: v for k, v in view.items() if k not in _NOT_NEWS} | {"members": members}


@routes.delete("/api/v1/communities/{community}")
@_guarded
async def delete_community(request: web.Request) -> web.Response:
    _host_only(request)
    request.app[HOST_KEY].store.delete(_community(request))
    return web.Response(status=204)


@routes.post("/api/v1/communities/{community}/invites")
@_guarded
async def make_invite(request: web.Request) -> web.Response:
    _host_only(request)
    community = _community(request)
    body = await request_json(request) if request.can_read_body else {}
    if not isinstance(body, dict):
        return error_response(422, "invalid_type", "expected an object")
    valid_s = parse_duration(body.get("expires_in", "PT24H"), "expires_in").total_seconds()
    if not 60 <= valid_s <= MAX_INVITE_S:
        raise ProblemError("invalid_value", "an invite lasts 1 minute to 30 days", "expires_in")
    code, expires_at = request.app[HOST_KEY].invite(community, valid_s)
    return web.json_response(
        {"community": community, "invite": code, "expires_at": iso_time(expires_at),
         "join": f"/api/v1/communities/{community}/members"},
        status=201,
    )  # fmt: skip


@routes.post("/api/v1/communities/{community}/members")
@_guarded
async def join(request: web.Request) -> web.Response:
    """Join with an invite (no token needed: the invite is the credential)."""
    community = _community(request)
    body = await request_json(request)
    if not isinstance(body, dict):
        return error_response(422, "invalid_type", 'expected {"invite", "name"}')
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ProblemError("invalid_type", "a member's name is 1 to 100 characters", "name")
    code = body.get("invite")
    if not isinstance(code, str) or not code:
        raise ProblemError("missing_field", "the invite code the host gave", "invite")
    joined = request.app[HOST_KEY].join(community, code, name.strip())
    if joined is None:
        return error_response(
            403, "invalid_invite", "the invite is unknown, used or expired", "invite"
        )
    member, token = joined
    base = f"/api/v1/communities/{community}"
    return web.json_response(
        {"community": community, "member": member, "token": token,
         "links": {"round": f"{base}/rounds/current", "report": f"{base}/report",
                   "profile": f"{base}/members/{member}/profile"}},
        status=201,
    )  # fmt: skip


@routes.get("/api/v1/communities/{community}/rounds/current")
@_guarded
async def current_round(request: web.Request) -> web.Response:
    community = _community(request)
    member = _member(request, community)
    return web.json_response(request.app[HOST_KEY].current_round(community, member.id))


@routes.put("/api/v1/communities/{community}/members/{member}/profile")
@_guarded
async def post_profile(request: web.Request) -> web.Response:
    community = _community(request)
    member = _member(request, community, request.match_info["member"])
    body = await request_json(request)
    return web.json_response(request.app[HOST_KEY].post(community, member.id, body))


@routes.get("/api/v1/communities/{community}/report")
@_guarded
async def report(request: web.Request) -> web.Response:
    community = _community(request)
    member = _member(request, community)
    return web.json_response(request.app[HOST_KEY].report(community, member.id))


@routes.delete("/api/v1/communities/{community}/members/{member}")
@_guarded
async def leave(request: web.Request) -> web.Response:
    """The host removes a member, or a member leaves: it stops counting at once."""
    community = _community(request)
    member = request.match_info["member"]
    if not _is_host(request):
        _member(request, community, member)
    if not request.app[HOST_KEY].remove(community, member):
        raise web.HTTPNotFound(text=f"no member {member!r} in this community")
    return web.Response(status=204)
