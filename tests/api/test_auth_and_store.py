"""The ingress trust rule (the proxy's address cannot be reached here) and job retention."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from flexems_optimizer.api.auth import (
    INGRESS_PROXY,
    SESSIONS_KEY,
    TOKEN_KEY,
    Sessions,
    auth_middleware,
)
from flexems_optimizer.store import JobStatus, JobStore

from .server import Server


def _status(remote: str, path: str, headers: dict[str, str] | None = None) -> int:
    app = web.Application()
    app[TOKEN_KEY] = "secret"
    app[SESSIONS_KEY] = Sessions()

    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    class Transport:
        def get_extra_info(self, name: str, default: object = None) -> object:
            return (remote, 40000) if name == "peername" else default

        def is_closing(self) -> bool:
            return False

    request = make_mocked_request(
        "GET", path, headers=headers or {}, app=app, transport=Transport()
    )
    response = asyncio.run(auth_middleware(request, handler))
    return response.status


def test_the_ingress_proxy_is_trusted_and_others_need_the_token() -> None:
    assert _status(INGRESS_PROXY, "/api/v1/schedules") == 200
    assert _status(INGRESS_PROXY, "/") == 200
    assert _status("172.30.32.9", "/api/v1/schedules") == 401
    assert _status("192.0.2.7", "/") == 303  # a person: to the sign-in form
    assert _status("192.0.2.7", "/", {"Cookie": "flexems_session=forged"}) == 303
    assert _status("192.0.2.7", "/api/v1/schedules", {"Authorization": "Bearer secret"}) == 200
    assert _status("192.0.2.7", "/api/v1/health") == 200


def test_retention_removes_only_old_ended_jobs(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    store.add("old-done", created_at=1000.0)
    store.finish("old-done", JobStatus.FINISHED, 1001.0, plan={"status": "optimal"})
    store.add("old-queued", created_at=1000.0)
    store.add("new-done", created_at=5000.0)
    store.finish("new-done", JobStatus.FAILED, 5001.0, error={"code": "x"})
    assert store.purge_before(2000.0) == 1
    assert store.get("old-done") is None
    assert store.get("old-queued") is not None and store.get("new-done") is not None
    store.close()
    # WAL mode, so readers never wait for the writer.
    with sqlite3.connect(tmp_path / "jobs.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_ended_job_keeps_its_outcome(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    store.add("job", created_at=1.0)
    assert store.mark_running("job", 2.0)
    assert store.finish("job", JobStatus.CANCELLED, 3.0)
    # The solve ends afterwards: its result does not overwrite the cancellation.
    assert not store.finish("job", JobStatus.FINISHED, 4.0, plan={"status": "optimal"})
    record = store.get("job")
    assert record is not None and record.status is JobStatus.CANCELLED and record.plan is None
    store.close()


def test_the_instance_id_is_made_once_per_data_directory(tmp_path: Path) -> None:
    first = Server(tmp_path / "a")
    try:
        made = first.request("GET", "/api/v1/version").body["instance_id"]
    finally:
        first.stop()
    assert len(made) == 32
    again = Server(tmp_path / "a")
    other = Server(tmp_path / "b")
    try:
        assert again.request("GET", "/api/v1/version").body["instance_id"] == made
        assert other.request("GET", "/api/v1/version").body["instance_id"] != made
    finally:
        again.stop()
        other.stop()
