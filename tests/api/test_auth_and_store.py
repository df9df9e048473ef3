"""The ingress trust rule (the proxy's address cannot be reached here) and job retention."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
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

from .server import Server, free_port


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


def test_a_token_by_default_kept_across_restarts(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", token=None)  # no token given: the service makes one
    try:
        made = server.token
        assert len(made) >= 32
        assert (tmp_path / "data" / "token").stat().st_mode & 0o077 == 0  # owner only
        assert server.request("GET", "/api/v1/schedules", token="").status == 401
        assert server.request("GET", "/api/v1/schedules").status == 200
    finally:
        server.stop()
    again = Server(tmp_path / "data", token=None)
    try:
        assert again.token == made
    finally:
        again.stop()


def test_no_token_only_on_loopback_and_then_json_only(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flexems_optimizer.cli", "serve", "--host", "0.0.0.0",
         "--port", str(free_port()), "--data-dir", str(tmp_path / "x"),
         "--allow-unauthenticated"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "needs --host on loopback" in done.stderr
    server = Server(tmp_path / "open", token="")
    try:
        # A page the user visits elsewhere could post a form (text/plain) to an open service.
        form = server.request("POST", "/api/v1/schedules", raw=b'{"start": 1}')
        assert (form.status, form.body["error"]["code"]) == (415, "unsupported_media_type")
    finally:
        server.stop()


def test_the_ingress_page_shows_the_token_for_scripts(tmp_path: Path) -> None:
    from flexems_optimizer.api.app import ServiceConfig, create_app
    from flexems_optimizer.api.pages import status_page

    async def page(remote: str) -> str:
        # The real app, started (its queue, sites and communities), asked as if from `remote`.
        app = create_app(ServiceConfig(data_dir=tmp_path, token="the-token-for-scripts", workers=1))
        runner = web.AppRunner(app)
        await runner.setup()

        class Transport:
            def get_extra_info(self, name: str, default: object = None) -> object:
                return (remote, 40000) if name == "peername" else default

            def is_closing(self) -> bool:
                return False

        request = make_mocked_request("GET", "/", app=app, transport=Transport())
        try:
            response = await status_page(request)
        finally:
            await runner.cleanup()
        return str(response.text)

    assert "the-token-for-scripts" in asyncio.run(page(INGRESS_PROXY))
    assert "the-token-for-scripts" not in asyncio.run(page("192.0.2.7"))
