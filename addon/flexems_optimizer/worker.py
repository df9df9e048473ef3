"""A solver worker process: `python -m flexems_optimizer.worker --parent PID [--memory-mb N]
[--stop-fd FD]`.

It reads solve requests from standard input and writes outcomes to standard output, one frame
each: an 8-byte big-endian length, then that many bytes of JSON. A request is
`{"problem": ..., "time_limit_s": ..., "search_limit_s": ..., "mip_rel_gap"?: ...}`, for a
site's plan also `"earlier"` (the choices of its last plan, or null) and `"hold_first_step"`
(keep the first step's choices of `earlier`); an outcome is `{"plan": ..., "summary":
...}` (for a site's plan also `"choices"`, solve/choices.py) or `{"error": {code, message, path},
"kind": ...}`. It starts by writing `ready` frame once numpy and HiGHS are imported.

It dies with the service: the kernel kills it when its parent dies (PR_SET_PDEATHSIG), so a
crashed or killed service leaves no worker solving. Its address space is capped (RLIMIT_AS) so
that one huge problem fails as `too_large` instead of starving the host.

The service can end the search of a solve under way without ending the worker: it writes the
solve's number (1 for the first request, 2 for the next, ...; 8 bytes big-endian) to the pipe
given as `--stop-fd`, and that solve's outcome is then the best plan found so far, as at its
search limit. Numbered, a stop meant for a solve that has just ended cannot stop the next one.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import signal
import struct
import sys
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

FRAME = struct.Struct(">Q")
PR_SET_PDEATHSIG = 1
SELF_TEST_BYTES = 64 * 2**20  # what a small plan needs on top of numpy and HiGHS


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame's bytes, or None at the end of the stream."""
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (length,) = FRAME.unpack(header)
    data = stream.read(length)
    return data if len(data) == length else None


def write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(FRAME.pack(len(data)) + data)
    stream.flush()


class StopRequests:
    """Whether the service asked the solve under way to stop (SolverSettings.stop): HiGHS asks
    every 40-70 ms during its search, the window search before each window; each asking reads
    what the stop pipe holds without waiting."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd
        self.solve = 0  # the number of the solve under way
        self.stopped = 0  # the highest solve number the service asked to stop
        if fd is not None:
            os.set_blocking(fd, False)

    def __call__(self) -> bool:
        if self.fd is not None:
            try:
                data = os.read(self.fd, FRAME.size * 64)
            except BlockingIOError:
                data = b""
            for offset in range(0, len(data) - FRAME.size + 1, FRAME.size):
                self.stopped = max(self.stopped, FRAME.unpack_from(data, offset)[0])
        return self.stopped >= self.solve


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError, AttributeError:  # not Linux: the closed pipe still ends the loop
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        sys.exit(0)


def _cap_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def solve(request: Mapping[str, Any], stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """The outcome of one request (never raises); its search ends early when `stop()`."""
    from .problem.errors import ProblemError
    from .scheduler import SolverError, schedule_from
    from .solve.choices import Choices
    from .solve.highs import SolverSettings
    from .summary import plan_summary

    try:
        settings = SolverSettings(
            time_limit_s=request["time_limit_s"],
            search_limit_s=request.get("search_limit_s", SolverSettings.search_limit_s),
            mip_rel_gap=request.get("mip_rel_gap", SolverSettings.mip_rel_gap),
            stop=stop,
        )
        # A site's plan starts from the choices of its last plan and hands on its own.
        earlier = request.get("earlier")
        plan, choices = schedule_from(
            request["problem"],
            settings,
            None if earlier is None else Choices.from_json(earlier),
            hold_first_step=bool(request.get("hold_first_step")),
        )
    except ProblemError as error:
        return {"error": error.as_dict()["error"], "kind": "input"}
    except SolverError as error:
        return {"error": {"code": "solver_failure", "message": str(error), "path": ""}}
    except MemoryError:
        return {
            "error": {
                "code": "too_large",
                "message": "the problem needs more memory than a worker may use",
                "path": "",
            }
        }
    outcome: dict[str, Any] = {"plan": plan, "summary": plan_summary(plan)}
    if "earlier" in request:
        outcome["choices"] = None if choices is None else choices.as_json()
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(prog="flexems_optimizer.worker")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--stop-fd", type=int, default=None, help="see StopRequests")
    args = parser.parse_args()
    _die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service decides when a worker stops
    stops = StopRequests(args.stop_fd)
    import flexems_optimizer.scheduler  # noqa: F401  (numpy and HiGHS, before "ready")

    if args.memory_mb > 0:
        _cap_memory(args.memory_mb)
        try:  # a worker that cannot find room for a small plan cannot solve anything
            bytearray(SELF_TEST_BYTES)
        except MemoryError:
            print(
                f"flexems worker: {args.memory_mb} MB of address space is less than a worker "
                "needs to solve anything",
                file=sys.stderr,
            )
            return 3

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    write_frame(stdout, b'"ready"')
    while (frame := read_frame(stdin)) is not None:
        stops.solve += 1
        try:
            outcome = solve(json.loads(frame), stops)
            reply = json.dumps(outcome, separators=(",", ":")).encode()
        except MemoryError:
            reply = json.dumps({"error": {"code": "too_large", "path": "",
                                          "message": "the plan needs more memory than a worker "
                                                     "may use"}}).encode()  # fmt: skip
        write_frame(stdout, reply)
    return 0


if __name__ == "__main__":
    sys.exit(main())
