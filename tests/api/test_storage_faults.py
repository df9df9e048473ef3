"""Storage faults are explicit and lose nothing acknowledged: one service per data directory, a
corrupt store set aside at start, a bounded store, a full store that says so and recovers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flexems_optimizer.store import JobStatus, JobStore

from .server import Server, free_port
from .test_service import small_problem


def test_a_second_service_on_the_same_data_directory_refuses_to_start(data_dir: Path) -> None:
    first = Server(data_dir)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flexems_optimizer.cli", "serve", "--port", str(free_port()),
             "--data-dir", str(data_dir)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert done.returncode == 2
        assert "in use by another flexems service" in done.stderr
        assert "Traceback" not in done.stderr
        # The first one is untouched and still plans.
        job = first.request("POST", "/api/v1/schedules?wait=30", small_problem()).body
        assert job["status"] == "finished"
    finally:
        first.stop()


def test_a_corrupt_store_is_set_aside_and_the_service_starts(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "flexems.sqlite").write_bytes(b"not a database, after a power cut" * 100)
    server = Server(data_dir)
    try:
        version = server.request("GET", "/api/v1/version").body
        recovered = version["store_recovered"]
        assert recovered is not None and "not a database" in recovered["reason"]
        assert Path(recovered["moved_to"]).read_bytes().startswith(b"not a database")
        job = server.request("POST", "/api/v1/schedules?wait=30", small_problem()).body
        assert job["status"] == "finished"  # a fresh store
        assert server.request("GET", "/api/v1/health").status == 200
    finally:
        log = server.stop()
    assert "could not be read" in log and "starting with a fresh store" in log


def test_the_store_keeps_at_most_the_jobs_it_may(data_dir: Path) -> None:
    server = Server(data_dir, "--max-jobs", "3")
    ids = [
        server.request("POST", "/api/v1/schedules?wait=30", small_problem()).body["id"]
        for _ in range(5)
    ]
    server.stop()
    again = Server(data_dir, "--max-jobs", "3")  # purges at start, in the background
    try:
        deadline = time.monotonic() + 10
        while True:
            kept = [job["id"] for job in again.request("GET", "/api/v1/schedules").body["jobs"]]
            if len(kept) <= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert kept == ids[:1:-1]  # the newest three, newest first
    finally:
        again.stop()


def test_a_full_store_says_so_and_recovers_when_space_is_freed(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    for i in range(40):
        store.add(f"job-{i}", created_at=float(i))
        store.finish(f"job-{i}", JobStatus.FINISHED, i + 0.5, plan={"values": ["x" * 4000]})
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # as a full disk would
    big = {"values": ["y" * 50_000]}
    store.add("one-more", created_at=100.0)
    try:
        store.finish("one-more", JobStatus.FINISHED, 101.0, plan=big)
    except sqlite3.OperationalError as error:
        assert "full" in str(error)
    else:
        raise AssertionError("a full store took a plan it had no room for")
    removed = store.purge(max_jobs=10)  # the size and count limits free space
    assert removed >= 30
    assert store.check() == ""
    assert store.finish("one-more", JobStatus.FINISHED, 102.0, plan=big)
    store.close()


def test_the_store_keeps_within_its_size(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite")
    for i in range(60):
        store.add(f"job-{i}", created_at=float(i))
        store.finish(f"job-{i}", JobStatus.FINISHED, i + 0.5, plan={"values": ["x" * 20_000]})
    store.add("running", created_at=100.0)  # never removed: it has not ended
    removed = store.purge(max_bytes=400_000)
    kept = [record.id for record in store.latest(100)]
    assert removed > 30 and "running" in kept
    assert kept[1:] == [f"job-{i}" for i in range(59, 59 - len(kept) + 1, -1)]  # newest kept
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    free = store._db.execute("PRAGMA freelist_count").fetchone()[0]
    size = store._db.execute("PRAGMA page_size").fetchone()[0]
    assert (pages - free) * size <= 400_000
    store.close()


def fill_the_disk(store: JobStore) -> None:
    """What a full disk is to SQLite: no page left to grow into."""
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + 2}")
    store._db.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)")
    try:
        while True:
            store._db.execute("INSERT INTO filler VALUES (zeroblob(512))")
    except sqlite3.OperationalError as error:
        assert "full" in str(error)


def test_store_faults_are_answered_and_outcomes_wait_for_space(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The real app in this process, so the test can break its store as a disk would: read-only
    (503 and health failing, then recovered) and full (a running job's outcome is kept once
    space is back: its write is retried)."""
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer

    from flexems_optimizer.api.app import ServiceConfig, create_app
    from flexems_optimizer.api.schedules import QUEUE_KEY

    from .test_service import slow_problem

    headers = {"Authorization": "Bearer t", "Content-Type": "application/json"}

    async def scenario() -> None:
        app = create_app(ServiceConfig(data_dir=tmp_path / "data", token="t", workers=1))
        async with TestClient(TestServer(app)) as client:
            store = app[QUEUE_KEY].store
            store._db.execute("PRAGMA query_only = ON")  # a read-only disk
            refused = await client.post("/api/v1/schedules", json=slow_problem(), headers=headers)
            assert refused.status == 503
            assert (await refused.json())["error"]["code"] == "store_unavailable"
            health = await client.get("/api/v1/health")
            assert health.status == 503
            assert "cannot write" in (await health.json())["reasons"][0]
            store._db.execute("PRAGMA query_only = OFF")
            assert (await client.get("/api/v1/health")).status == 200
            running = await client.post(
                "/api/v1/schedules?wait=0", json=slow_problem(), headers=headers
            )
            job_id = (await running.json())["id"]
            fill_the_disk(store)  # no room for the plan when the solve ends
            await asyncio.sleep(1.5)
            store._db.execute("DROP TABLE filler")  # space again
            store._db.execute("PRAGMA max_page_count = 1073741823")
            for _ in range(100):
                reply = await client.get(f"/api/v1/schedules/{job_id}", headers=headers)
                job = await reply.json()
                if job["status"] == "finished":
                    break
                await asyncio.sleep(0.2)
            assert job["status"] == "finished" and job["plan"]["status"] == "optimal"

    asyncio.run(scenario())
    assert "could not keep the outcome" in caplog.text  # the write failed, then was retried


def test_a_full_store_is_507() -> None:
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from flexems_optimizer.api.errors import error_middleware

    async def full(request: web.Request) -> web.Response:
        raise sqlite3.OperationalError("database or disk is full")

    response = asyncio.run(error_middleware(make_mocked_request("POST", "/x"), full))
    assert response.status == 507
