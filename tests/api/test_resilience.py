"""The service survives what homes do to it: a worker killed mid-solve, a cancelled or overlong
solve, workers that cannot start, SIGTERM and kill -9 of the service itself. Real server, real
worker processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from flexems_optimizer.samples import coupled_site

from .server import Server
from .test_service import poll, small_problem


def long_problem() -> dict[str, Any]:
    """A week of a home with an on/off heat pump: HiGHS needs tens of seconds to prove it."""
    return coupled_site(672, on_off=True)


def workers_of(server: Server) -> list[int]:
    """The service's solver worker processes."""
    found = subprocess.run(
        ["pgrep", "-P", str(server.process.pid), "-f", "flexems_optimizer.worker"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return [int(pid) for pid in found.stdout.split()]


def left_in_session(server: Server) -> list[str]:
    """Processes still in the service's session (it was started as a session leader)."""
    found = subprocess.run(
        ["ps", "-o", "pid=,args=", "-s", str(server.process.pid)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return [line for line in found.stdout.splitlines() if line.strip()]


def until_running(server: Server, location: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while server.request("GET", location).body["status"] != "running":
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.05)


def running_long_job(server: Server) -> tuple[str, int]:
    """A long job on the service's only worker, running: its location and the worker's pid."""
    busy = server.request("POST", "/api/v1/schedules?wait=0", long_problem())
    until_running(server, busy.headers["Location"])
    [worker] = workers_of(server)
    return busy.headers["Location"], worker


def cancel_and_plan_again(server: Server, location: str) -> float:
    """Cancel the job at `location`; the seconds until the next job has its plan."""
    cancelled = server.request("DELETE", location)
    assert cancelled.body["status"] == "cancelled"
    started = time.monotonic()
    after = server.request("POST", "/api/v1/schedules?wait=30", small_problem())
    assert after.body["status"] == "finished"
    return time.monotonic() - started


def test_a_killed_worker_fails_its_job_and_the_next_jobs_succeed(data_dir: Path) -> None:
    server = Server(data_dir, "--workers", "1")
    try:
        location, worker = running_long_job(server)
        os.kill(worker, signal.SIGKILL)  # as the OOM killer would
        job = poll(server, location)
        assert (job["status"], job["error"]["code"]) == ("failed", "worker_died")
        assert "killed by signal 9" in job["error"]["message"]
        after = server.request("POST", "/api/v1/schedules?wait=30", small_problem())
        assert after.body["status"] == "finished"  # a new worker took its place
        health = server.request("GET", "/api/v1/health")
        assert (health.status, health.body["status"], health.body["workers"]) == (200, "ok", 1)
        assert workers_of(server) != [worker]
    finally:
        server.stop()


def test_cancelling_a_running_solve_ends_its_search_and_keeps_its_worker(data_dir: Path) -> None:
    server = Server(data_dir, "--workers", "1", "--search-time-limit", "60")
    try:
        location, worker = running_long_job(server)
        time.sleep(1.5)  # into HiGHS' search, which would go on for a minute
        assert server.request("GET", "/api/v1/health").body["busy"] == 1
        assert cancel_and_plan_again(server, location) < 2
        # The same worker: told to stop through its pipe, not killed and replaced.
        assert workers_of(server) == [worker]
        assert server.request("GET", location).body["status"] == "cancelled"
        assert server.request("GET", "/api/v1/health").body["pending"] == 0
    finally:
        server.stop()


def test_a_worker_that_does_not_answer_the_stop_is_replaced(data_dir: Path) -> None:
    server = Server(data_dir, "--workers", "1")
    try:
        location, worker = running_long_job(server)
        os.kill(worker, signal.SIGSTOP)  # as stuck as an LP HiGHS cannot interrupt
        # The long solve would hold the only worker for tens of seconds; after the stop's
        # grace a new worker is ready within a few.
        assert cancel_and_plan_again(server, location) < 15
        assert workers_of(server) not in ([], [worker])
        assert server.request("GET", "/api/v1/health").body["pending"] == 0
    finally:
        server.stop()


def test_the_wall_clock_limit_stops_the_solve_and_frees_the_worker(data_dir: Path) -> None:
    # HiGHS' own limit ends a MILP with its best plan; the wall clock (limit + 5 s) is the
    # guard for what HiGHS does not stop in time. Either way the worker is free after.
    server = Server(data_dir, "--workers", "1", "--solve-time-limit", "1")
    try:
        started = time.monotonic()
        job = server.request("POST", "/api/v1/schedules?wait=30", long_problem()).body
        assert time.monotonic() - started < 8
        assert job["status"] == "finished" and job["plan"]["solver"]["proven_optimal"] is False
        after = server.request("POST", "/api/v1/schedules?wait=30", small_problem())
        assert after.body["status"] == "finished"
    finally:
        server.stop()


def test_health_says_so_when_workers_cannot_start(data_dir: Path) -> None:
    # 64 MB of address space is too little to import numpy: every worker dies at start.
    server = Server(data_dir, "--worker-memory", "64", healthy=False)
    try:
        deadline = time.monotonic() + 20
        while (health := server.request("GET", "/api/v1/health")).status == 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert health.status == 503 and health.body["status"] == "failing"
        assert "cannot start" in health.body["reasons"][0]
    finally:
        server.stop()


def test_sigterm_stops_the_service_within_seconds_and_leaves_nothing(data_dir: Path) -> None:
    server = Server(data_dir, "--workers", "2")
    try:
        busy = server.request("POST", "/api/v1/schedules?wait=0", long_problem())
        until_running(server, busy.headers["Location"])
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=10)
        assert time.monotonic() - started < 5
        time.sleep(0.5)
        assert left_in_session(server) == []
    finally:
        server.stop()


def test_after_kill_9_of_the_service_no_worker_goes_on_solving(data_dir: Path) -> None:
    server = Server(data_dir, "--workers", "2")
    try:
        busy = server.request("POST", "/api/v1/schedules?wait=0", long_problem())
        until_running(server, busy.headers["Location"])
        server.process.kill()
        server.process.wait()
        deadline = time.monotonic() + 5
        while left_in_session(server):
            assert time.monotonic() < deadline, left_in_session(server)
            time.sleep(0.1)
    finally:
        server.stop()


def test_a_problem_too_big_for_a_worker_fails_as_too_large(data_dir: Path) -> None:
    """Under the parse-time bound (9 × 40,000 device-steps) but over an 800 MB worker: a clear
    failed job, and the worker goes on with the next one."""
    steps = 40_000
    prices = np.round(0.2 + 0.1 * np.random.default_rng(1).standard_normal(steps), 4).tolist()
    huge = {
        "start": "2026-01-01T00:00:00+00:00", "duration": f"PT{steps}H", "resolution": "PT1H",
        "flex-context": {"consumption-price": {
            "start": "2026-01-01T00:00:00+00:00", "resolution": "PT1H", "values": prices}},
        "flex-model": [
            {"name": f"battery {i}", "type": "storage", "soc-at-start": 5, "soc-max": 10,
             "power-capacity": 5, "roundtrip-efficiency": "90%"}
            for i in range(9)
        ],
    }  # fmt: skip
    server = Server(data_dir, "--workers", "1", "--worker-memory", "800")
    try:
        job = server.request("POST", "/api/v1/schedules?wait=60", huge, timeout=120).body
        assert (job["status"], job["error"]["code"]) == ("failed", "too_large")
        after = server.request("POST", "/api/v1/schedules?wait=30", small_problem())
        assert after.body["status"] == "finished"
        assert server.request("GET", "/api/v1/health").status == 200
    finally:
        server.stop()
