"""The aiohttp application: configuration, start-up, shutdown and route tables."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import highspy
from aiohttp import web

from .. import __version__
from ..community.host import CommunityHost
from ..community.membership import Memberships, MembershipStore
from ..community.store import CommunityStore
from ..datadir import Recovery, set_aside_if_corrupt
from ..instance import instance_id
from ..jobs import DEFAULT_MIP_REL_GAP, JobQueue, QueueSettings
from ..s2.devices import S2Devices
from ..s2.tokens import S2Tokens
from ..sites.planner import SitePlanner
from ..sites.store import SiteStore
from ..store import JobStore
from .auth import SESSIONS_KEY, TOKEN_KEY, Sessions, auth_middleware
from .body import MAX_BODY_KEY
from .communities import HOST_KEY
from .communities import routes as community_routes
from .errors import error_middleware, security_headers_middleware
from .login import routes as login_routes
from .pages import routes as page_routes
from .s2 import S2_DEVICES_KEY, S2_TOKENS_KEY
from .s2 import routes as s2_routes
from .schedules import QUEUE_KEY
from .schedules import routes as schedule_routes
from .site_community import MEMBERSHIPS_KEY
from .site_community import routes as membership_routes
from .sites import PLANNER_KEY
from .sites import routes as site_routes

LOGGER = logging.getLogger(__name__)
API_VERSION = "v1"
PURGE_INTERVAL_S = 30.0  # under steady load the store grows about 1 MB/s between purges


@dataclass(frozen=True)
class ServiceConfig:
    data_dir: Path
    token: str = ""
    workers: int = 2
    worker_memory_mb: int = 0  # 0: derived from the memory the service may use
    max_pending: int = 64
    solve_time_limit_s: float = 60.0
    search_time_limit_s: float = 10.0
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP  # a plan with on/off devices is proven within it
    job_retention_days: float = 7.0
    max_jobs: int = 10_000  # kept at most (oldest ended jobs go first)
    max_store_mb: int = 200  # the database's size at most
    max_body_bytes: int = 8 * 1024 * 1024

    @property
    def database(self) -> Path:
        return self.data_dir / "flexems.sqlite"


CONFIG_KEY = web.AppKey("config", ServiceConfig)
INSTANCE_KEY = web.AppKey("instance_id", str)
RECOVERY_KEY = web.AppKey("store_recovery", list[Recovery])  # empty, or the one at start
meta_routes = web.RouteTableDef()


@meta_routes.get("/api/v1/health")
async def health(request: web.Request) -> web.Response:
    """`ok` only when the store can write and workers can solve; otherwise 503 with the
    reasons, so the Supervisor's watchdog restarts the add-on."""
    queue = request.app[QUEUE_KEY]
    pool = queue.health()
    reasons = [reason for reason in (queue.store.check(), pool.reason) if reason]
    body: dict[str, Any] = {
        "status": "failing" if reasons else "ok",
        "workers": pool.workers,
        "busy": pool.busy,
        "pending": queue.pending,
    }
    if reasons:
        body["reasons"] = reasons
    return web.json_response(body, status=503 if reasons else 200)


@meta_routes.get("/api/v1/version")
async def version(request: web.Request) -> web.Response:
    recovered = request.app.get(RECOVERY_KEY) or []
    return web.json_response(
        {
            "version": __version__,
            "api": API_VERSION,
            "highs": highspy.Highs().version(),  # type: ignore[no-untyped-call]
            "instance_id": request.app[INSTANCE_KEY],
            # A store found corrupt at start and moved aside: Home Assistant says so once.
            "store_recovered": asdict(recovered[0]) if recovered else None,
        }
    )


def create_app(config: ServiceConfig) -> web.Application:
    app = web.Application(
        middlewares=[security_headers_middleware, error_middleware, auth_middleware],
        client_max_size=config.max_body_bytes,
    )
    app[CONFIG_KEY] = config
    app[INSTANCE_KEY] = instance_id(config.data_dir)
    app[TOKEN_KEY] = config.token
    app[MAX_BODY_KEY] = config.max_body_bytes
    app[SESSIONS_KEY] = Sessions()
    app.add_routes(meta_routes)
    app.add_routes(schedule_routes)
    app.add_routes(site_routes)
    app.add_routes(s2_routes)
    app.add_routes(community_routes)
    app.add_routes(membership_routes)
    app.add_routes(page_routes)
    app.add_routes(login_routes)
    app.cleanup_ctx.append(_job_queue)
    app.cleanup_ctx.append(_sites)
    app.cleanup_ctx.append(_communities)
    return app


async def _communities(app: web.Application) -> AsyncIterator[None]:
    """The communities this add-on hosts: their rounds resume where they were."""
    store = CommunityStore(app[CONFIG_KEY].database)
    host = CommunityHost(store)
    app[HOST_KEY] = host
    host.start()
    membership_store = MembershipStore(app[CONFIG_KEY].database)
    memberships = Memberships(membership_store, app[PLANNER_KEY])
    app[MEMBERSHIPS_KEY] = memberships
    memberships.start()
    yield
    await memberships.close()
    membership_store.close()
    await host.close()
    store.close()


async def _job_queue(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG_KEY]
    recovery = set_aside_if_corrupt(config.database)
    app[RECOVERY_KEY] = [recovery] if recovery else []
    store = JobStore(config.database)
    lost = store.fail_unfinished("the optimizer restarted before this job finished", time.time())
    if lost:
        LOGGER.warning("marked %d unfinished job(s) of the previous run as failed", lost)
    queue = JobQueue(
        store,
        QueueSettings(
            workers=config.workers,
            worker_memory_mb=config.worker_memory_mb,
            max_pending=config.max_pending,
            solve_time_limit_s=config.solve_time_limit_s,
            search_time_limit_s=config.search_time_limit_s,
            mip_rel_gap=config.mip_rel_gap,
        ),
    )
    await queue.warm_up()
    app[QUEUE_KEY] = queue
    purge = asyncio.create_task(_purge_old_jobs(store, config))
    yield
    purge.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await purge
    await queue.close()
    store.close()


async def _sites(app: web.Application) -> AsyncIterator[None]:
    """The sites kept in the store, planned again at start, then on every change."""
    store = SiteStore(app[CONFIG_KEY].database)
    devices = S2Devices(app[CONFIG_KEY].database)
    tokens = S2Tokens(app[CONFIG_KEY].database)
    app[S2_TOKENS_KEY] = tokens
    search_limit_s = app[CONFIG_KEY].search_time_limit_s
    planner = SitePlanner(store, app[QUEUE_KEY].solve, devices, search_limit_s=search_limit_s)
    app[PLANNER_KEY] = planner
    app[S2_DEVICES_KEY] = devices
    planner.start()
    yield
    await planner.close()
    devices.close()
    tokens.close()
    store.close()


async def _purge_old_jobs(store: JobStore, config: ServiceConfig) -> None:
    """Keep the store bounded by age, count and size: at start, then every half minute, in a
    thread (a purge of tens of thousands of jobs must not hold up requests)."""
    while True:
        try:
            removed = await asyncio.to_thread(
                store.purge,
                before=time.time() - config.job_retention_days * 86400,
                max_jobs=config.max_jobs,
                max_bytes=config.max_store_mb * 2**20,
            )
        except sqlite3.Error as error:
            LOGGER.error("could not purge old jobs: %s", error)
        else:
            if removed:
                LOGGER.info("removed %d old job(s) (age, count or size limit)", removed)
        await asyncio.sleep(PURGE_INTERVAL_S)
