"""The `flexems-optimizer` command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .jobs import DEFAULT_MIP_REL_GAP
from .problem.errors import ProblemError
from .scheduler import SolverError, schedule
from .solve.highs import SolverSettings

EXIT_INPUT_ERROR = 2
EXIT_SOLVER_FAILURE = 3
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
GAP_PERCENT = f"{DEFAULT_MIP_REL_GAP * 100:g}"  # a string: argparse parses it like an argument
MAX_GAP_PERCENT = 10.0


def _gap_percent(text: str) -> float:
    """An optimality gap in per cent, 0 (prove the best plan) to 10."""
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        value = float("nan")
    if not 0 <= value <= MAX_GAP_PERCENT:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a gap in per cent from 0 to {MAX_GAP_PERCENT:g}"
        )
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flexems-optimizer", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("schedule", help="print the plan for a site problem (JSON)")
    run.add_argument("problem", help="path of the problem JSON, or - for standard input")
    run.add_argument("--time-limit", type=float, default=60.0, help="solver time limit (s)")
    run.add_argument(
        "--search-limit", type=float, default=SolverSettings.search_limit_s,
        help="seconds an on/off (MILP) plan may search for a better plan once it has one",
    )  # fmt: skip
    run.add_argument(
        "--optimality-gap", type=_gap_percent, default=GAP_PERCENT,
        help="%% of the best possible within which an on/off (MILP) plan counts as proven",
    )  # fmt: skip
    run.add_argument("--summary", action="store_true", help="print a short summary, not JSON")
    community = commands.add_parser("community", help="communities of sites sharing a capacity")
    community_commands = community.add_subparsers(dest="community_command", required=True)
    simulate = community_commands.add_parser(
        "simulate",
        help="run a community uncoordinated, federated and central; print the figures (JSON)",
    )
    simulate.add_argument("file", help="path of the community JSON, or - for standard input")
    simulate.add_argument(
        "--engine", choices=("process", "dask"), default="process",
        help="where members plan: a local process pool (default) or a Dask cluster",
    )  # fmt: skip
    simulate.add_argument(
        "--scheduler", help="a Dask scheduler's address (default: a LocalCluster)"
    )
    simulate.add_argument(
        "--workers", type=int, default=None, help="processes of the local pool (default: cores)"
    )
    serve = commands.add_parser(
        "serve", help="run the optimizer service (options also from FLEXEMS_* variables)"
    )
    env = os.environ.get
    serve.add_argument("--host", default=env("FLEXEMS_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(env("FLEXEMS_PORT", "8099")))
    serve.add_argument("--data-dir", type=Path, default=Path(env("FLEXEMS_DATA_DIR", "data")))
    serve.add_argument(
        "--token", default=env("FLEXEMS_TOKEN", ""),
        help="bearer token for the API (default: made once and kept in DATA_DIR/token)",
    )  # fmt: skip
    serve.add_argument("--token-file", type=Path, default=env("FLEXEMS_TOKEN_FILE"))
    serve.add_argument(
        "--allow-unauthenticated", action="store_true",
        default=env("FLEXEMS_ALLOW_UNAUTHENTICATED", "") == "true",
        help="no token at all; only with --host on loopback (127.0.0.1, ::1)",
    )  # fmt: skip
    serve.add_argument("--workers", type=int, default=int(env("FLEXEMS_WORKERS", "2")))
    serve.add_argument(
        "--worker-memory", type=int, default=int(env("FLEXEMS_WORKER_MEMORY_MB", "0")),
        help="address space per solver worker in MB (0: the service's memory limit, shared)",
    )  # fmt: skip
    serve.add_argument(
        "--max-pending", type=int, default=int(env("FLEXEMS_MAX_PENDING", "64")),
        help="jobs queued or running before new ones get 429",
    )  # fmt: skip
    serve.add_argument(
        "--solve-time-limit", type=float, default=float(env("FLEXEMS_SOLVE_TIME_LIMIT", "60"))
    )
    serve.add_argument(
        "--search-time-limit", type=float,
        default=float(env("FLEXEMS_SEARCH_TIME_LIMIT", "10")),
        help="seconds a plan with on/off devices may search for a better plan once it has one",
    )  # fmt: skip
    serve.add_argument(
        "--optimality-gap", type=_gap_percent,
        default=env("FLEXEMS_OPTIMALITY_GAP", GAP_PERCENT),
        help="%% of the best possible within which a plan with on/off devices counts as proven",
    )  # fmt: skip
    serve.add_argument(
        "--job-retention-days", type=float, default=float(env("FLEXEMS_JOB_RETENTION_DAYS", "7"))
    )
    serve.add_argument(
        "--max-jobs", type=int, default=int(env("FLEXEMS_MAX_JOBS", "10000")),
        help="jobs kept at most (the oldest ended ones are removed first)",
    )  # fmt: skip
    serve.add_argument(
        "--max-store-mb", type=int, default=int(env("FLEXEMS_MAX_STORE_MB", "200")),
        help="size of the job store at most, in MB",
    )  # fmt: skip
    serve.add_argument("--log-level", default=env("FLEXEMS_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "community":
        from .community.command import simulate_file

        return simulate_file(args.file, args.engine, args.scheduler, args.workers)
    settings = SolverSettings(
        time_limit_s=args.time_limit,
        search_limit_s=args.search_limit,
        mip_rel_gap=args.optimality_gap / 100,
    )
    return _schedule(args.problem, settings, args.summary)


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from .api.app import ServiceConfig, create_app

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from .datadir import DataDirBusyError, lock, service_token

    try:
        held = lock(args.data_dir)  # for the process's life
    except DataDirBusyError as error:
        print(f"flexems-optimizer: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    token = args.token
    if args.token_file:
        token = Path(args.token_file).read_text(encoding="utf-8").strip()
    if not token:
        if args.allow_unauthenticated:
            if args.host not in LOOPBACK:
                print(
                    "flexems-optimizer: --allow-unauthenticated needs --host on loopback "
                    f"({', '.join(sorted(LOOPBACK))}), not {args.host}",
                    file=sys.stderr,
                )
                return EXIT_INPUT_ERROR
        else:
            token = service_token(args.data_dir)
    config = ServiceConfig(
        data_dir=args.data_dir,
        token=token,
        workers=max(1, args.workers),
        worker_memory_mb=max(0, args.worker_memory),
        max_pending=max(1, args.max_pending),
        solve_time_limit_s=args.solve_time_limit,
        search_time_limit_s=args.search_time_limit,
        mip_rel_gap=args.optimality_gap / 100,
        job_retention_days=args.job_retention_days,
        max_jobs=max(1, args.max_jobs),
        max_store_mb=max(1, args.max_store_mb),
    )
    # SIGTERM (the Supervisor stopping the add-on) ends requests still waiting for a plan
    # after 3 s; the workers are killed at cleanup, so the service is gone within seconds.
    web.run_app(
        create_app(config), host=args.host, port=args.port, print=None, shutdown_timeout=3.0
    )
    held.close()
    return 0


def _schedule(source: str, settings: SolverSettings, summary: bool) -> int:
    try:
        return _schedule_file(source, settings, summary)
    except Exception as error:  # a bug of ours: still an error the user can report, no traceback
        message = f"internal error ({type(error).__name__}: {error}); please report it"
        return _fail({"code": "internal_error", "message": message, "path": ""}, 3)


def _schedule_file(source: str, settings: SolverSettings, summary: bool) -> int:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        return _fail({"code": "unreadable_file", "message": str(error), "path": ""}, 2)
    try:
        problem = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        return _fail({"code": "invalid_json", "message": f"{error.msg} at {where}", "path": ""}, 2)
    try:
        plan = schedule(problem, settings)
    except ProblemError as error:
        return _fail(error.as_dict()["error"], EXIT_INPUT_ERROR)
    except SolverError as error:
        return _fail(
            {"code": "solver_failure", "message": str(error), "path": ""}, EXIT_SOLVER_FAILURE
        )
    print(_summary(plan) if summary else json.dumps(plan, indent=1))
    return 0


def _fail(error: dict[str, Any], code: int) -> int:
    print(json.dumps({"error": error}), file=sys.stderr)
    return code


def _summary(plan: dict[str, Any]) -> str:
    costs = plan["costs"]
    solver = plan["solver"]
    lines = [
        f"status      {plan['status']}  ({len(plan['timestamps'])} steps of {plan['resolution']})",
        f"energy cost {costs['energy_eur']:.2f} {costs['currency']}"
        + (
            f"  (baseline {costs['baseline_energy_eur']:.2f}, saving {costs['savings_eur']:.2f})"
            if costs.get("baseline_energy_eur") is not None
            else ""
        ),
    ]
    for key, label in (("peak_eur", "peak cost"), ("start_eur", "start cost")):
        if costs.get(key):
            lines.append(f"{label:<11} {costs[key]:.2f} {costs['currency']}")
    if costs.get("breach_eur"):
        lines.append(f"{'breaches':<11} {costs['breach_eur']:.2f} {costs['currency']}")
    lines += [
        f"total cost  {costs['total_eur']:.2f} {costs['currency']}",
        f"solver      {_solver_line(solver)}",
    ]
    lines += [f"{'breach':<11} {line}" for line in _breach_lines(plan.get("breaches", []))]
    lines += [f"{name:<11} {_device_line(device)}" for name, device in plan["devices"].items()]
    lines += [f"note        {note}" for note in plan.get("notes", [])]
    if plan["status"] == "infeasible":
        lines.append(f"infeasible  {plan['message']}")
    return "\n".join(lines)


def _solver_line(solver: dict[str, Any]) -> str:
    """The kind of problem, the time, and for on/off decisions how sure the plan is: a search
    stopped at its limit answers with the best plan found, which the reader should know."""
    times = f"build {solver['build_s'] * 1e3:.1f} ms, HiGHS {solver['solve_s'] * 1e3:.1f} ms"
    if solver["problem_class"] != "milp":
        return f"{solver['problem_class']}, {times}"
    gap = solver["mip_gap"] * 100
    sure = (
        f"proven within {gap:.2g} % of the best possible"
        if solver["proven_optimal"]
        else f"the best found in the search limit: within {gap:.2g} % of the bound, not proven"
    )
    return f"milp ({solver['binaries']} on/off decisions), {times}, {sure}"


def _breach_lines(breaches: list[dict[str, Any]]) -> list[str]:
    """One line per device and constraint the plan does not keep: the largest miss, in how
    many steps, from when."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for breach in breaches:
        grouped.setdefault((breach.get("device") or "site", breach["constraint"]), []).append(
            breach
        )
    lines = []
    for (device, constraint), found in grouped.items():
        worst = max(found, key=lambda breach: breach["amount"])
        steps = f"{len(found)} steps" if len(found) > 1 else "1 step"
        lines.append(
            f"{device} {constraint} by up to {worst['amount']:.3g} {worst['unit']} "
            f"({steps}, from {found[0]['at']})"
        )
    return lines


def _device_line(device: dict[str, Any]) -> str:
    """What a device of any kind does in the plan: power, state, heat, start."""
    parts = []
    if "power_kw" in device:
        power = device["power_kw"]
        parts.append(f"power {min(power):+.2f}…{max(power):+.2f} kW")
    if "heat_kw" in device:
        heat = device["heat_kw"]
        parts.append(f"heat {min(heat):.2f}…{max(heat):.2f} kW")
    if "soc_kwh" in device:
        parts.append(f"soc {device['soc_kwh'][0]:.2f} → {device['soc_kwh'][-1]:.2f} kWh")
    if "temperature_c" in device:
        temperature = device["temperature_c"]
        parts.append(f"temperature {temperature[0]:.1f} → {temperature[-1]:.1f} °C")
    if device.get("start"):
        parts.append(f"starts {device['start']}")
    return ", ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
