"""/api/v1/sites/{site}/community: make a site of this add-on take part in a community.

With `{host, community, invite, name}` the add-on joins the host itself (the invite is used
up, the member token kept here); with `{host, community, member, token}` it takes part with a
membership made before. The token is never shown again.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from ..community.membership import Membership, Memberships
from ..problem.errors import ProblemError
from .body import request_json
from .errors import error_response
from .sites import site_id, site_record

MEMBERSHIPS_KEY = web.AppKey("memberships", Memberships)
routes = web.RouteTableDef()


def _text(body: dict[str, Any], key: str, limit: int = 200) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ProblemError("invalid_type", f"'{key}' is a string of 1 to {limit} characters", key)
    return value.strip()


def _host_url(body: dict[str, Any]) -> str:
    url = _text(body, "host")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProblemError("invalid_value", "the host's address, e.g. http://192.168.1.20:8099",
                           "host")  # fmt: skip
    return url.rstrip("/")


@routes.put("/api/v1/sites/{site}/community")
async def take_part(request: web.Request) -> web.Response:
    site = site_id(request)
    site_record(request, site)
    body = await request_json(request)
    if not isinstance(body, dict):
        return error_response(422, "invalid_type", "expected an object")
    host, community = _host_url(body), _text(body, "community")
    if "invite" in body:
        joined = await _join(host, community, _text(body, "invite"), _text(body, "name", 100))
        if isinstance(joined, web.Response):
            return joined
        member, token = joined
    else:
        member, token = _text(body, "member"), _text(body, "token")
    membership = Membership(site, host, community, member, token, time.time())
    memberships = request.app[MEMBERSHIPS_KEY]
    await memberships.take_part(membership)
    return web.json_response(_status(memberships, site), status=201)


@routes.get("/api/v1/sites/{site}/community")
async def get_membership(request: web.Request) -> web.Response:
    site = site_id(request)
    if request.app[MEMBERSHIPS_KEY].store.get(site) is None:
        raise web.HTTPNotFound(text=f"the site {site!r} takes part in no community")
    return web.json_response(_status(request.app[MEMBERSHIPS_KEY], site))


@routes.delete("/api/v1/sites/{site}/community")
async def leave(request: web.Request) -> web.Response:
    """Stop taking part: the site plans without signals again, and the host is told."""
    site = site_id(request)
    if not await request.app[MEMBERSHIPS_KEY].leave(site):
        raise web.HTTPNotFound(text=f"the site {site!r} takes part in no community")
    return web.Response(status=204)


def _status(memberships: Memberships, site: str) -> dict[str, Any]:
    status = memberships.status(site)
    assert status is not None
    return status


async def _join(
    host: str, community: str, invite: str, name: str
) -> tuple[str, str] | web.Response:
    url = f"{host}/api/v1/communities/{community}/members"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session,
            session.post(url, json={"invite": invite, "name": name}) as response,
        ):
            answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        # The address given does not lead to a host, as far as this add-on can tell.
        return error_response(
            422, "host_unreachable", f"the community's host did not answer: {error}", "host"
        )
    if response.status != 201 or not isinstance(answer, dict):
        reason = answer.get("error", {}).get("message") if isinstance(answer, dict) else None
        return error_response(
            409, "join_refused", f"the host refused: {reason or response.status}", "invite"
        )
    return str(answer["member"]), str(answer["token"])
