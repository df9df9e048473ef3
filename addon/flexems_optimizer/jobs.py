"""The job queue: solves run in the worker pool, their outcomes land in the store."""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .store import JobStatus, JobStore
from .workers import (
    PoolHealth,
    SolveStoppedError,
    WorkerDiedError,
    WorkerPool,
    memory_per_worker_mb,
)

LOGGER = logging.getLogger(__name__)
# On top of HiGHS' own time limit: parsing, building and answering may take a little longer.
_WALL_CLOCK_GRACE_S = 5.0
STORE_RETRIES_S = (0.0, 0.5, 2.0, 10.0)


class QueueFullError(RuntimeError):
    """More jobs are waiting than the service accepts; try again after `retry_after_s`."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("the job queue is full")
        self.retry_after_s = retry_after_s


# A plan with on/off devices is proven once within 0.1 % of the best possible (the library's
# schedule() proves 1e-6). Measured on the coupled home of a day with an on/off heat pump, four
# seeds: 0.03-0.25 s instead of 1.6-3.4 s a plan, for 0.16-0.5 cents a day.
DEFAULT_MIP_REL_GAP = 1e-3


@dataclass(frozen=True)
class QueueSettings:
    workers: int = 2
    max_pending: int = 64  # queued or running
    solve_time_limit_s: float = 60.0
    search_time_limit_s: float = 10.0  # a MILP's search once it has a plan (SolverSettings)
    mip_rel_gap: float = DEFAULT_MIP_REL_GAP
    worker_memory_mb: int = 0  # 0: derived from the memory the service may use


class JobQueue:
    def __init__(self, store: JobStore, settings: QueueSettings) -> None:
        self.store = store
        self.settings = settings
        memory = settings.worker_memory_mb or memory_per_worker_mb(settings.workers)
        self.pool = WorkerPool(settings.workers, memory)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def warm_up(self) -> None:
        """Start the workers (imports of numpy and HiGHS) before the first request."""
        await self.pool.start()

    @property
    def pending(self) -> int:
        """Jobs queued or running: each holds its place until its solve has really stopped."""
        return len(self._tasks)

    def health(self) -> PoolHealth:
        return self.pool.health()

    def full(self) -> int | None:
        """Seconds to wait before asking again when no more jobs are accepted, else None."""
        if self.pending < self.settings.max_pending:
            return None
        return max(1, round(self.pending / max(self.settings.workers, 1) * 0.05))

    def submit(self, problem: Mapping[str, Any]) -> str:
        """Queue a validated problem; returns the job id. Raises QueueFullError."""
        if (retry := self.full()) is not None:
            raise QueueFullError(retry)
        job_id = secrets.token_hex(8)
        self.store.add(job_id, time.time())
        self._tasks[job_id] = asyncio.create_task(self._run(job_id, problem))
        return job_id

    async def solve(
        self,
        problem: Mapping[str, Any],
        search_limit_s: float | None = None,
        earlier: Mapping[str, Any] | None = None,
        stop: asyncio.Event | None = None,
        hold_first_step: bool = False,
    ) -> dict[str, Any]:
        """Solve at once, not as a job (a site's plan): the worker's outcome, `{"plan", ...,
        "choices"}` or `{"error": ...}`, starting from the choices of the site's `earlier` plan;
        `search_limit_s` at most the add-on's. Once `stop` is set the search ends with the best
        plan so far (set before a worker was free: no solve, a `stopped` error);
        `hold_first_step` keeps the first step's choices of `earlier`. Raises SolveStoppedError
        or WorkerDiedError."""
        limit = self.settings.solve_time_limit_s
        search = self.settings.search_time_limit_s
        outcome = await self.pool.solve(
            problem, limit, limit + _WALL_CLOCK_GRACE_S,
            starting=lambda: stop is None or not stop.is_set(),
            search_limit_s=search if search_limit_s is None else min(search, search_limit_s),
            mip_rel_gap=self.settings.mip_rel_gap, choices=True, earlier=earlier, stop=stop,
            hold_first_step=hold_first_step,
        )  # fmt: skip
        if outcome is None:
            message = "stopped before it began: the site changed"
            return {"error": {"code": "stopped", "message": message, "path": ""}}
        return outcome

    async def wait(self, job_id: str, timeout_s: float) -> None:
        """Wait up to `timeout_s` for a job to end (it goes on in the background)."""
        task = self._tasks.get(job_id)
        if task is not None and timeout_s > 0:
            await asyncio.wait({task}, timeout=timeout_s)

    def cancel(self, job_id: str) -> bool:
        """Cancel a job not yet finished; a running solve is stopped (its search ended, or
        its worker replaced: workers.py)."""
        cancelled = self.store.finish(job_id, JobStatus.CANCELLED, time.time())
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()
        return cancelled

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await self.pool.close()

    async def _run(self, job_id: str, problem: Mapping[str, Any]) -> None:
        limit = self.settings.solve_time_limit_s
        try:
            # "running" once a worker has it (and unless cancelled while it waited).
            outcome = await self.pool.solve(
                problem, limit, limit + _WALL_CLOCK_GRACE_S,
                search_limit_s=self.settings.search_time_limit_s,
                mip_rel_gap=self.settings.mip_rel_gap,
                starting=lambda: self.store.mark_running(job_id, time.time()),
            )  # fmt: skip
            if outcome is None:
                return
        except SolveStoppedError:
            self._fail(job_id, "time_limit", f"no plan within the solve time limit of {limit:g} s")
            return
        except WorkerDiedError as died:
            self._fail(job_id, "worker_died", f"{died}; the next jobs get a new worker")
            return
        except asyncio.CancelledError:
            return
        finally:
            self._tasks.pop(job_id, None)
        await self._keep(job_id, outcome)

    async def _keep(self, job_id: str, outcome: Mapping[str, Any]) -> None:
        """Record the outcome, trying again while the store fails (a full disk may free up);
        a job whose outcome could not be kept stays unfinished in the store, and is failed
        with a reason when the service starts again."""
        for wait_s in STORE_RETRIES_S:
            await asyncio.sleep(wait_s)
            try:
                self._record(job_id, outcome)
                return
            except sqlite3.Error as error:
                LOGGER.error("could not keep the outcome of job %s: %s", job_id, error)

    def _record(self, job_id: str, outcome: Mapping[str, Any]) -> None:
        if "plan" in outcome:
            self.store.finish(
                job_id, JobStatus.FINISHED, time.time(),
                plan=outcome["plan"], summary=outcome["summary"],
            )  # fmt: skip
        else:
            self.store.finish(job_id, JobStatus.FAILED, time.time(), error=outcome["error"])

    def _fail(self, job_id: str, code: str, message: str) -> None:
        error = {"code": code, "message": message, "path": ""}
        self.store.finish(job_id, JobStatus.FAILED, time.time(), error=error)
