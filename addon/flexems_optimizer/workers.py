"""The solver workers: a fixed number of worker processes (worker.py), one solve at a time each.

A solve that must stop (cancelled, past its wall-clock limit) is first asked to end its search
through the worker's stop pipe (HiGHS asks it every 40-70 ms while it branches); a worker that
does not answer within `STOP_GRACE_S` (an LP, which HiGHS cannot interrupt) is killed, since a
worker left solving would hold its slot for minutes, and a new one started. A worker that dies
(killed, out of memory) fails only the solve it had; a new worker takes its place before the
next job. The pool says whether it can solve (`health`), so the service's health check tells
the Supervisor's watchdog the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .worker import FRAME

LOGGER = logging.getLogger(__name__)
START_TIMEOUT_S = 60.0  # importing numpy and HiGHS on a slow SD card
# A worker that cannot start (no memory at all, a broken install) is not retried in a tight
# loop: the waits between attempts grow, and the pool reports itself unhealthy meanwhile.
RESTART_BACKOFF_S = (0.0, 0.5, 2.0, 10.0)
# How long a solve asked to stop may take to answer before its worker is killed: a search ends
# within 0.1 s and the plan's reading follows (a cancelled week's home: the next plan 0.11 s
# after the cancel, where a new worker made it 0.35 s here; importing numpy and HiGHS takes
# seconds on a Raspberry Pi, with one worker fewer meanwhile).
STOP_GRACE_S = 2.0


class WorkerDiedError(RuntimeError):
    """The worker process ended during the solve (killed, out of memory, crashed)."""


class SolveStoppedError(RuntimeError):
    """The solve was stopped (out of time)."""


@dataclass(frozen=True)
class PoolHealth:
    ok: bool
    reason: str
    workers: int
    busy: int


def memory_per_worker_mb(workers: int) -> int:
    """The address space a worker may use: the memory this service may use (its cgroup's
    limit, else the machine's), less room for the service itself, shared by the workers; at
    least 768 MB (numpy and HiGHS alone reserve about 400 MB of address space)."""
    available = _cgroup_limit_bytes() or _physical_bytes()
    share = (available * 0.8 - 256 * 2**20) / max(workers, 1)
    return max(768, int(share / 2**20))


def _cgroup_limit_bytes() -> int | None:
    for path, unlimited in (
        (Path("/sys/fs/cgroup/memory.max"), "max"),
        (Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"), None),
    ):
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text == unlimited:
            return None
        value = int(text)
        return value if value < 2**60 else None  # cgroup v1 says "no limit" with a huge number
    return None


def _physical_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


class Worker:
    """One worker process and its pipes: requests in, outcomes out, and the numbers of the
    solves whose search should end (worker.StopRequests)."""

    def __init__(self, process: asyncio.subprocess.Process, stop_pipe: int) -> None:
        self.process = process
        self.stop_pipe = stop_pipe
        self.solves = 0  # requests sent: the number of the last one

    @classmethod
    async def start(cls, memory_mb: int) -> Worker:
        stop_read, stop_write = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "flexems_optimizer.worker",
                "--parent", str(os.getpid()), "--memory-mb", str(memory_mb),
                "--stop-fd", str(stop_read), pass_fds=(stop_read,),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
        except BaseException:
            os.close(stop_write)
            raise
        finally:
            os.close(stop_read)
        worker = cls(process, stop_write)
        try:
            ready = await asyncio.wait_for(worker._read(), START_TIMEOUT_S)
        except BaseException:
            await worker.stop()
            raise
        if ready != "ready":
            await worker.stop()
            raise WorkerDiedError(f"the worker answered {ready!r} instead of 'ready'")
        return worker

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def begin(self, request: Mapping[str, Any]) -> tuple[int, asyncio.Task[dict[str, Any]]]:
        """Start one solve: its number (as the worker counts its requests: what a stop names)
        and the task that ends with its outcome."""
        self.solves += 1
        return self.solves, asyncio.create_task(self._solve(request))

    async def _solve(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Send one request and read its outcome; raises WorkerDiedError if the process ends."""
        data = json.dumps(request, separators=(",", ":")).encode()
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(FRAME.pack(len(data)) + data)
            await self.process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as error:
            raise WorkerDiedError(self._death()) from error
        outcome: dict[str, Any] = await self._read()
        return outcome

    def stop_search(self, solve: int) -> None:
        """End the search of solve number `solve` (if it still runs): its outcome follows with
        the best plan found so far."""
        with contextlib.suppress(OSError):  # the worker is gone: its solve fails anyway
            os.write(self.stop_pipe, FRAME.pack(solve))

    async def _read(self) -> Any:
        assert self.process.stdout is not None
        try:
            (length,) = FRAME.unpack(await self.process.stdout.readexactly(FRAME.size))
            data = await self.process.stdout.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionResetError) as error:
            await self.process.wait()
            raise WorkerDiedError(self._death()) from error
        # Large plans (megabytes of JSON) are parsed off the event loop.
        if length > 256 * 1024:
            return await asyncio.to_thread(json.loads, data)
        return json.loads(data)

    def _death(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            signal_number = -code
            hint = " (out of memory?)" if signal_number == 9 else ""
            return f"the solver worker was killed by signal {signal_number}{hint}"
        return f"the solver worker ended (exit code {code})"

    async def stop(self) -> None:
        """Kill the process (a solve in it is abandoned) and reap it."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        with contextlib.suppress(ProcessLookupError):
            await self.process.wait()
        if self.stop_pipe >= 0:
            os.close(self.stop_pipe)
            self.stop_pipe = -1


def _stop_search_when(
    stop: asyncio.Event, worker: Worker, number: int, solving: asyncio.Task[dict[str, Any]]
) -> None:
    """Once `stop` is set while `solving` (the worker's solve `number`) runs, end its search."""

    def stopped(waited: asyncio.Task[Any]) -> None:
        if not waited.cancelled():
            worker.stop_search(number)

    stopping = asyncio.create_task(stop.wait())
    stopping.add_done_callback(stopped)
    solving.add_done_callback(lambda _: stopping.cancel())


async def _answered_stop(
    worker: Worker, number: int, solving: asyncio.Task[dict[str, Any]]
) -> bool:
    """Ask `worker` to end its solve `number` (`solving`, whose outcome no one needs now);
    whether it answered within STOP_GRACE_S and can take the next solve."""
    worker.stop_search(number)
    await asyncio.wait({solving}, timeout=STOP_GRACE_S)
    return solving.done() and not solving.cancelled() and solving.exception() is None


class WorkerPool:
    """`size` workers; `solve` takes an idle one, waiting for it if all are busy."""

    def __init__(self, size: int, memory_mb: int) -> None:
        self.size = size
        self.memory_mb = memory_mb
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._all: set[Worker] = set()
        self._replacing: set[asyncio.Task[None]] = set()
        self._failed_starts = 0  # in a row
        self._last_failure = ""
        self._closed = False

    async def start(self) -> None:
        """Start the workers; one that cannot start is retried in the background (and the
        pool's health says why meanwhile) rather than keeping the service from starting."""
        started = await asyncio.gather(
            *(Worker.start(self.memory_mb) for _ in range(self.size)), return_exceptions=True
        )
        for outcome in started:
            if isinstance(outcome, Worker):
                self._all.add(outcome)
                self._idle.put_nowait(outcome)
            elif isinstance(outcome, Exception):
                self._failed_start(outcome)
                self._begin_replacement(None)
            else:
                raise outcome

    @property
    def busy(self) -> int:
        return len(self._all) - self._idle.qsize()

    def health(self) -> PoolHealth:
        alive = sum(worker.alive for worker in self._all)
        if self._closed:
            return PoolHealth(False, "the service is stopping", alive, self.busy)
        # A worker being replaced after a cancel or a death is normal; one that cannot start is
        # not: then no job can be solved, or fewer than configured, until someone looks.
        if self._failed_starts and (alive == 0 or self._failed_starts >= 3):
            return PoolHealth(False, self._last_failure, alive, self.busy)
        return PoolHealth(True, "", alive, self.busy)

    async def solve(
        self,
        problem: Mapping[str, Any],
        time_limit_s: float,
        wall_s: float,
        starting: Callable[[], bool] = lambda: True,
        search_limit_s: float = 10.0,
        mip_rel_gap: float | None = None,
        choices: bool = False,
        earlier: Mapping[str, Any] | None = None,
        stop: asyncio.Event | None = None,
        hold_first_step: bool = False,
    ) -> dict[str, Any] | None:
        """The outcome of one solve, once a worker is free for it and `starting()` agrees
        (None if it does not: the job was cancelled while it waited). With `choices` (a site's
        plan) it starts from the choices of the `earlier` plan and the outcome has its own.
        Raises WorkerDiedError, or SolveStoppedError when it ran past `wall_s`; cancelling the
        calling task stops the solve too. Once `stop` is set, the search ends with the best plan
        so far. A solve stopped either way keeps its worker if it answers within
        `STOP_GRACE_S`; a worker that does not is killed and replaced."""
        worker = await self._idle.get()
        if not starting():
            self._idle.put_nowait(worker)
            return None
        request = {
            "problem": problem,
            "time_limit_s": time_limit_s,
            "search_limit_s": search_limit_s,
        }
        if mip_rel_gap is not None:
            request["mip_rel_gap"] = mip_rel_gap
        if choices:
            request["earlier"] = earlier
        if hold_first_step:
            request["hold_first_step"] = True
        number, solving = worker.begin(request)
        finished = False  # the worker answered: it is free for the next solve
        try:
            if stop is not None:
                _stop_search_when(stop, worker, number, solving)
            try:
                outcome = await asyncio.wait_for(asyncio.shield(solving), wall_s)
            except TimeoutError:
                finished = await _answered_stop(worker, number, solving)
                raise SolveStoppedError(f"no plan within {wall_s:g} s") from None
            except asyncio.CancelledError:
                finished = await _answered_stop(worker, number, solving)
                raise
            finished = True
            return outcome
        except WorkerDiedError as died:
            LOGGER.warning("%s; starting a new one", died)
            raise
        finally:
            if finished:
                self._idle.put_nowait(worker)
            else:
                solving.cancel()
                self._replace(worker)

    def _failed_start(self, error: BaseException) -> None:
        self._failed_starts += 1
        self._last_failure = f"a solver worker cannot start: {error or type(error).__name__}"
        LOGGER.error("%s", self._last_failure)

    def _replace(self, worker: Worker) -> None:
        """Stop a worker that did not finish its solve and start a new one in its place."""
        self._all.discard(worker)
        self._begin_replacement(worker)

    def _begin_replacement(self, worker: Worker | None) -> None:
        task = asyncio.create_task(self._start_in_place_of(worker))
        self._replacing.add(task)
        task.add_done_callback(self._replacing.discard)

    async def _start_in_place_of(self, worker: Worker | None) -> None:
        if worker is not None:
            await worker.stop()
        while not self._closed:
            await asyncio.sleep(RESTART_BACKOFF_S[min(self._failed_starts, 3)])
            try:
                new = await Worker.start(self.memory_mb)
            except (WorkerDiedError, OSError, TimeoutError) as error:
                self._failed_start(error)
                continue
            self._failed_starts = 0
            if self._closed:
                await new.stop()
                return
            self._all.add(new)
            self._idle.put_nowait(new)
            return

    async def close(self) -> None:
        """Kill every worker (their solves are abandoned); quick, for shutdown."""
        self._closed = True
        for task in list(self._replacing):
            task.cancel()
        started = time.monotonic()
        await asyncio.gather(*(worker.stop() for worker in list(self._all)))
        LOGGER.debug("workers stopped in %.2f s", time.monotonic() - started)
