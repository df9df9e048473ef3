"""`flexems-optimizer community simulate FILE`: read, validate, run, print one JSON object."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ..problem.errors import ProblemError
from ..scheduler import SolverError
from .engines import DaskPool, LocalPool
from .simulate import simulate
from .spec import parse_community

EXIT_INPUT_ERROR = 2
EXIT_SOLVER_FAILURE = 3


def simulate_file(source: str, engine: str, scheduler: str | None, workers: int | None) -> int:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        return _fail("unreadable_file", str(error), EXIT_INPUT_ERROR)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        return _fail("invalid_json", f"{error.msg} at {where}", EXIT_INPUT_ERROR)
    try:
        community = parse_community(raw)
        pool: AbstractContextManager[Any]
        pool = DaskPool(scheduler) if engine == "dask" else LocalPool(workers)
        with pool as planner:
            outcome = simulate(community, planner)
    except ProblemError as error:
        return _fail(error.code, error.message, EXIT_INPUT_ERROR, error.path)
    except SolverError as error:
        return _fail("solver_failure", str(error), EXIT_SOLVER_FAILURE)
    print(json.dumps(outcome))
    return 0


def _fail(code: str, message: str, exit_code: int, path: str = "") -> int:
    print(json.dumps({"error": {"code": code, "message": message, "path": path}}), file=sys.stderr)
    return exit_code
