"""Storage faults are explicit and lose nothing acknowledged: one service per data directory, a
corrupt store set aside at start, a bounded store, a full store that says so and recovers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

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
    again = Server(data_dir, "--max-jobs", "3")  # purges at start (and every few minutes)
    try:
        kept = [job["id"] for job in again.request("GET", "/api/v1/schedules").body["jobs"]]
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
