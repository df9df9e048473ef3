"""/api/v1/sites: the home's site kept in the add-on, its latest plan, and a push channel.

A site's problem is the schedules contract; without a `start` it rolls with the clock. Every
stored problem is planned after a short debounce, one plan per site at a time, and each new
plan is pushed to the site's events WebSocket.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from aiohttp import web

from ..problem.parse import parse_problem
from ..sites.planner import SitePlanner, plan_event, planning_ended
from ..sites.rolling import is_rolling, problem_at
from ..sites.store import SiteRecord
from ..store import iso_time
from .body import request_json
from .errors import error_response
from .pushing import push_until_closed
from .schedules import MAX_WAIT_S, query_number

PLANNER_KEY = web.AppKey("site_planner", SitePlanner)
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_SITES = 100
HEARTBEAT_S = 50.0  # WebSocket pings no more often than this
routes = web.RouteTableDef()


def site_id(request: web.Request) -> str:
    site = request.match_info["site"]
    if not SITE_ID.match(site):
        raise web.HTTPNotFound(
            text="a site id is 1 to 64 lowercase letters, digits, '-' or '_', e.g. 'home'"
        )
    return site


def site_record(request: web.Request, site: str) -> SiteRecord:
    record = request.app[PLANNER_KEY].store.get(site)
    if record is None:
        raise web.HTTPNotFound(text=f"no site {site!r}; create it with PUT /api/v1/sites/{site}")
    return record


def _links(site: str) -> dict[str, str]:
    return {
        "self": f"/api/v1/sites/{site}",
        "plan": f"/api/v1/sites/{site}/plan",
        "events": f"/api/v1/sites/{site}/events",
    }


def _metadata(record: SiteRecord) -> dict[str, Any]:
    return {
        "site": record.id,
        "revision": record.revision,
        "updated_at": iso_time(record.updated_at),
        "rolling": is_rolling(record.problem),
        "plan_revision": record.plan_revision,
        "planned_at": iso_time(record.planned_at),
        "error": record.error,
        "failed_revision": record.failed_revision,
        "links": _links(record.id),
    }


@routes.get("/api/v1/sites")
async def list_sites(request: web.Request) -> web.Response:
    store = request.app[PLANNER_KEY].store
    records = [record for site in store.ids() if (record := store.get(site)) is not None]
    return web.json_response({"sites": [_metadata(record) for record in records]})


@routes.put("/api/v1/sites/{site}")
async def put_site(request: web.Request) -> web.Response:
    site = site_id(request)
    planner = request.app[PLANNER_KEY]
    problem = await request_json(request)
    if not isinstance(problem, dict):
        return error_response(422, "invalid_type", "a site problem is a JSON object")
    new = planner.store.get(site) is None
    if new and len(planner.store.ids()) >= MAX_SITES:
        return error_response(409, "too_many_sites", f"this add-on keeps at most {MAX_SITES} sites")
    # Validated as it would be planned now (off the event loop): bad input is a 422 here.
    now = time.time()
    await asyncio.get_running_loop().run_in_executor(
        None, lambda: parse_problem(problem_at(problem, now))
    )
    planner.store.put(site, problem, now)
    planner.changed(site)
    record = site_record(request, site)
    return web.json_response(_metadata(record), status=201 if new else 200)


@routes.get("/api/v1/sites/{site}")
async def get_site(request: web.Request) -> web.Response:
    record = site_record(request, site_id(request))
    attached = [d.summary() for d in request.app[PLANNER_KEY].of_site(record.id)]
    body = {**_metadata(record), "problem": record.problem, "s2_devices": attached}
    return web.json_response(body)


def _planning_failed(error: dict[str, Any]) -> web.Response:
    """The planning's own error (code, message, path), as a 409: the site has no such plan."""
    return error_response(409, error["code"], error["message"], error["path"])


@routes.get("/api/v1/sites/{site}/plan")
async def get_site_plan(request: web.Request) -> web.Response:
    """The latest plan; with `revision` (and `wait` seconds), the plan of that problem revision
    or a later one, waiting for it: `202` while it is still being made, the planning's error
    when it failed."""
    site = site_id(request)
    record = site_record(request, site)
    revision = query_number(request, "revision", 1, 2**62)
    if revision is not None:
        wait = query_number(request, "wait", 0, MAX_WAIT_S) or 0.0
        found = await request.app[PLANNER_KEY].wait_for(site, int(revision), wait)
        if found is None:
            raise web.HTTPNotFound(text=f"no site {site!r}")
        record = found
        if not planning_ended(record, int(revision)):
            return web.json_response(_metadata(record), status=202)
        if (record.failed_revision or 0) >= revision and record.error is not None:
            return _planning_failed(record.error)
    if record.plan is None or record.planned_at is None or record.plan_revision is None:
        if record.error is not None:
            return _planning_failed(record.error)
        raise web.HTTPNotFound(text="no plan yet: it is being made (the events channel sends it)")
    planner = request.app[PLANNER_KEY]
    body = plan_event(record.id, record.plan_revision, record.planned_at, record.plan,
                      planner.of_site(record.id))  # fmt: skip
    body.pop("type")
    # Older than the problem when a newer one is being planned, or could not be planned.
    body["current"] = record.plan_revision == record.revision and record.error is None
    return web.json_response(body)


@routes.delete("/api/v1/sites/{site}")
async def delete_site(request: web.Request) -> web.Response:
    site = site_id(request)
    planner = request.app[PLANNER_KEY]
    if not planner.store.delete(site):
        raise web.HTTPNotFound(text=f"no site {site!r}")
    planner.removed(site)
    return web.Response(status=204)


@routes.get("/api/v1/sites/{site}/events")
async def site_events(request: web.Request) -> web.StreamResponse:
    """A WebSocket that sends the site's latest plan (and its membership of a community) at
    once, then every new one (`plan`, `plan_failed`, `s2_devices`, `community`,
    `site_removed` events); it reads nothing from the client."""
    site = site_id(request)
    record = site_record(request, site)
    planner = request.app[PLANNER_KEY]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=64 * 1024)
    await ws.prepare(request)
    queue = planner.subscribe(site)
    if record.plan is not None and record.plan_revision and record.planned_at:
        latest = plan_event(site, record.plan_revision, record.planned_at, record.plan,
                            planner.of_site(site))  # fmt: skip
        await ws.send_json(latest)
    if (membership := planner.membership_event(site)) is not None:
        await ws.send_json(membership)

    async def forward() -> None:
        while not ws.closed:
            await ws.send_json(await queue.get())

    try:
        await push_until_closed(ws, forward())
    finally:
        planner.unsubscribe(site, queue)
    return ws
