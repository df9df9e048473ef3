"""The job queue: solves run in a bounded process pool, their outcomes land in the store."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from .problem.errors import ProblemError
from .scheduler import SolverError, schedule
from .solve.highs import SolverSettings
from .store import JobStatus, JobStore

LOGGER = logging.getLogger(__name__)
# On top of HiGHS' own time limit: parsing, building and answering may take a little longer.
_WALL_CLOCK_GRACE_S = 5.0


class QueueFullError(RuntimeError):
    """More jobs are waiting than the service accepts; try again after `retry_after_s`."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("the job queue is full")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class QueueSettings:
    workers: int = 2
    max_pending: int = 64  # queued or running
    solve_time_limit_s: float = 60.0


def solve_in_worker(problem: Mapping[str, Any], time_limit_s: float) -> dict[str, Any]:
    """Runs in a worker process: the plan, or an error dict (exceptions do not cross well)."""
    try:
        return {"plan": schedule(problem, SolverSettings(time_limit_s=time_limit_s))}
    except ProblemError as error:
        return {"error": error.as_dict()["error"], "kind": "input"}
    except SolverError as error:
        return {"error": {"code": "solver_failure", "message": str(error), "path": ""}}


def plan_summary(plan: Mapping[str, Any]) -> dict[str, Any]:
    """A few figures per job for listings and the status page."""
    return {
        "status": plan["status"],
        "steps": len(plan["timestamps"]),
        "start": plan["start"],
        "resolution": plan["resolution"],
        "devices": sorted(plan["devices"]),
        "total_eur": plan["costs"]["total_eur"],
        "savings_eur": plan["costs"].get("savings_eur"),
        "currency": plan["costs"].get("currency", "EUR"),
        "net_power_kw": plan["site"]["net_power_kw"][:672],
    }


class JobQueue:
    def __init__(self, store: JobStore, settings: QueueSettings) -> None:
        self.store = store
        self.settings = settings
        self._executor = ProcessPoolExecutor(max_workers=settings.workers)
        # One slot per worker: a job is "running" only once a worker is free for it.
        self._slots = asyncio.Semaphore(settings.workers)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def warm_up(self) -> None:
        """Start the workers (imports of numpy and HiGHS) before the first request."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(
                loop.run_in_executor(self._executor, solve_in_worker, {}, 1.0)
                for _ in range(self.settings.workers)
            )
        )

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def submit(self, problem: Mapping[str, Any]) -> str:
        """Queue a validated problem; returns the job id. Raises QueueFullError."""
        if self.pending >= self.settings.max_pending:
            retry = max(1, round(self.pending / max(self.settings.workers, 1) * 0.05))
            raise QueueFullError(retry)
        job_id = secrets.token_hex(8)
        self.store.add(job_id, time.time())
        self._tasks[job_id] = asyncio.create_task(self._run(job_id, problem))
        return job_id

    async def wait(self, job_id: str, timeout_s: float) -> None:
        """Wait up to `timeout_s` for a job to end (it goes on in the background)."""
        task = self._tasks.get(job_id)
        if task is not None and timeout_s > 0:
            await asyncio.wait({task}, timeout=timeout_s)

    def cancel(self, job_id: str) -> bool:
        """Cancel a job not yet finished; a running solve ends unnoticed in its worker."""
        cancelled = self.store.finish(job_id, JobStatus.CANCELLED, time.time())
        task = self._tasks.pop(job_id, None)
        if task is not None:
            task.cancel()
        return cancelled

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, job_id: str, problem: Mapping[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        limit = self.settings.solve_time_limit_s
        try:
            async with self._slots:
                if not self.store.mark_running(job_id, time.time()):
                    return
                future = loop.run_in_executor(self._executor, solve_in_worker, problem, limit)
                outcome = await asyncio.wait_for(future, limit + _WALL_CLOCK_GRACE_S)
        except TimeoutError:
            self._fail(job_id, "time_limit", f"no plan within the solve time limit of {limit:g} s")
            return
        except asyncio.CancelledError:
            return
        except Exception as error:  # a crashed worker must not lose the job
            LOGGER.exception("job %s failed in its worker", job_id)
            self._fail(job_id, "internal_error", f"the solve crashed: {error}")
            return
        finally:
            self._tasks.pop(job_id, None)
        self._record(job_id, outcome)

    def _record(self, job_id: str, outcome: Mapping[str, Any]) -> None:
        if "plan" in outcome:
            plan = outcome["plan"]
            self.store.finish(
                job_id, JobStatus.FINISHED, time.time(), plan=plan, summary=plan_summary(plan)
            )
        else:
            self.store.finish(job_id, JobStatus.FAILED, time.time(), error=outcome["error"])

    def _fail(self, job_id: str, code: str, message: str) -> None:
        error = {"code": code, "message": message, "path": ""}
        self.store.finish(job_id, JobStatus.FAILED, time.time(), error=error)
