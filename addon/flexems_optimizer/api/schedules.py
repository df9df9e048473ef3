"""/api/v1/schedules: trigger a plan, poll it, cancel it, list the latest."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from aiohttp import web

from ..jobs import JobQueue, QueueFullError
from ..problem.parse import parse_problem
from ..store import JobRecord
from .body import request_json
from .errors import error_response

QUEUE_KEY = web.AppKey("queue", JobQueue)
DEFAULT_WAIT_S = 5.0
MAX_WAIT_S = 60.0
routes = web.RouteTableDef()


def job_body(record: JobRecord) -> dict[str, Any]:
    body = record.metadata()
    if record.plan is not None:
        body["plan"] = record.plan
    return body


def _location(request: web.Request, job_id: str) -> str:
    return str(request.app.router["schedule"].url_for(job_id=job_id))


def query_number(request: web.Request, name: str, low: float, high: float) -> float | None:
    """A number from the query within [low, high] (a 400 saying so otherwise), or None."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise web.HTTPBadRequest(text=f"{name} must be a number from {low:g} to {high:g}, "
                                 f"got {raw!r}")  # fmt: skip
    return value


def _wait_seconds(request: web.Request) -> float:
    wait = query_number(request, "wait", 0, MAX_WAIT_S)
    return DEFAULT_WAIT_S if wait is None else wait


@routes.post("/api/v1/schedules")
async def create_schedule(request: web.Request) -> web.Response:
    wait = _wait_seconds(request)
    queue = request.app[QUEUE_KEY]
    # A full queue and an oversized body are refused before the body is read: sixteen 8 MiB
    # bodies read at once would cost the service gigabytes.
    if (retry := queue.full()) is not None:
        return _queue_full(queue.pending, retry)
    problem = await request_json(request)
    # Validate before queueing, off the event loop: bad input is a 422 now, not a failed job.
    await asyncio.get_running_loop().run_in_executor(None, parse_problem, problem)
    try:
        job_id = queue.submit(problem)
    except QueueFullError as error:
        return _queue_full(queue.pending, error.retry_after_s)
    await queue.wait(job_id, wait)
    found = queue.store.get_raw(job_id)
    assert found is not None
    headers = {"Location": _location(request, job_id)}
    return raw_job_response(
        *found, status=200 if found[0].status.is_final else 202, headers=headers
    )


def _queue_full(pending: int, retry_after_s: int) -> web.Response:
    return error_response(
        429, "queue_full", f"{pending} jobs are pending; try again shortly",
        headers={"Retry-After": str(retry_after_s)},
    )  # fmt: skip


@routes.get("/api/v1/schedules/{job_id}", name="schedule")
async def get_schedule(request: web.Request) -> web.Response:
    found = request.app[QUEUE_KEY].store.get_raw(request.match_info["job_id"])
    if found is None:
        return error_response(404, "unknown_job", "no job with this id", "job_id")
    return raw_job_response(*found)


def raw_job_response(
    record: JobRecord,
    plan_json: str | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The job with its stored plan spliced in as it is (no parse, no second dump)."""
    body = json.dumps(record.metadata())
    if plan_json is not None:
        body = f'{body[:-1]},"plan":{plan_json}}}'
    return web.Response(text=body, status=status, headers=headers, content_type="application/json")


@routes.delete("/api/v1/schedules/{job_id}")
async def cancel_schedule(request: web.Request) -> web.Response:
    queue = request.app[QUEUE_KEY]
    job_id = request.match_info["job_id"]
    record = queue.store.get(job_id)
    if record is None:
        return error_response(404, "unknown_job", "no job with this id", "job_id")
    if record.status.is_final:
        return error_response(
            409, "job_ended", f"the job has already ended ({record.status.value})", "job_id"
        )
    queue.cancel(job_id)
    cancelled = queue.store.get(job_id)
    assert cancelled is not None
    return web.json_response(job_body(cancelled))


@routes.get("/api/v1/schedules")
async def list_schedules(request: web.Request) -> web.Response:
    raw = request.query.get("limit", "20")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 500:
        return error_response(400, "invalid_limit", "limit must be a whole number from 1 to 500")
    records = request.app[QUEUE_KEY].store.latest(int(raw))
    return web.json_response({"jobs": [record.metadata() for record in records]})
