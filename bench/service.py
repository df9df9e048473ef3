"""Service throughput: concurrent 96-step battery plans over loopback against the real server.

Starts `flexems-optimizer serve`, runs a client in a second process with N concurrent
connections, and prints plans/s, p50/p99 latency and the server's memory (main process plus its
solver workers). Run: `.venv/bin/python bench/service.py [--clients 8] [--requests 2000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flexems_optimizer.samples import home_battery

TOKEN = "bench-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def client_main(url: str, clients: int, requests: int) -> None:
    """In the client process: fire `requests` plans over `clients` connections, print stats."""
    import aiohttp

    body = json.dumps(home_battery(96, 15)).encode()
    latencies: list[float] = []
    failures = 0

    async def worker(session: aiohttp.ClientSession, count: int) -> None:
        nonlocal failures
        for _ in range(count):
            started = time.perf_counter()
            async with session.post(
                f"{url}/api/v1/schedules?wait=30", data=body, headers=HEADERS
            ) as response:
                job = await response.json()
                if response.status != 200 or job.get("status") != "finished":
                    failures += 1
            latencies.append(time.perf_counter() - started)

    async def run() -> float:
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector) as session:
            await worker(session, 20)  # warm-up, not counted
            latencies.clear()
            started = time.perf_counter()
            share = [requests // clients + (i < requests % clients) for i in range(clients)]
            await asyncio.gather(*(worker(session, n) for n in share))
            return time.perf_counter() - started

    elapsed = asyncio.run(run())
    latencies.sort()
    print(json.dumps({
        "elapsed_s": elapsed, "requests": len(latencies), "failures": failures,
        "p50_ms": statistics.median(latencies) * 1e3,
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))] * 1e3,
    }))  # fmt: skip


@dataclass(frozen=True)
class Service:
    process: subprocess.Popen[bytes]
    url: str  # http://127.0.0.1:port
    port: int
    data_dir: Path


@contextlib.contextmanager
def serving(*options: str, port: int | None = None) -> Iterator[Service]:
    """The real service on a loopback port (a free one unless given) with the bench's token
    and a data directory of its own, once it answers; stopped at the end."""
    with tempfile.TemporaryDirectory() as data_dir:
        port = port or free_port()
        server, url = _start(port, data_dir, *options)
        try:
            yield Service(server, url, port, Path(data_dir))
        finally:
            server.terminate()
            server.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int, data_dir: str, *options: str) -> tuple[subprocess.Popen[bytes], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "flexems_optimizer.cli", "serve", "--port", str(port),
         "--data-dir", data_dir, "--log-level", "warning", "--token", TOKEN, *options],
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/api/v1/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return server, url


def descendants(pid: int) -> list[int]:
    """The process's children, their children, ... (the solver workers)."""
    found = []
    todo = [pid]
    while todo:
        children = subprocess.run(
            ["pgrep", "-P", str(todo.pop())], capture_output=True, text=True, check=False
        ).stdout.split()
        found += [int(child) for child in children]
        todo += [int(child) for child in children]
    return found


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) summed over a process and its descendants, in MB.

    RSS counts shared library pages once per process; PSS shares them out, so its sum is the
    memory the service really occupies.
    """
    rss_kb = pss_kb = 0
    for process in [pid, *descendants(pid)]:
        rollup = Path(f"/proc/{process}/smaps_rollup")
        if rollup.exists():
            for line in rollup.read_text().splitlines():
                if line.startswith("Rss:"):
                    rss_kb += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss_kb += int(line.split()[1])
    return rss_kb / 1024, pss_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18777)
    parser.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args.client[0], int(args.client[1]), int(args.client[2]))
        return
    with serving("--workers", str(args.workers), port=args.port) as service:
        idle = memory_mb(service.process.pid)
        done = subprocess.run(
            [sys.executable, __file__, "--client", service.url, str(args.clients),
             str(args.requests)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        stats: dict[str, Any] = json.loads(done.stdout)
        busy = memory_mb(service.process.pid)
    print(f"{stats['requests']} plans (96 steps) from {args.clients} concurrent clients, "
          f"{args.workers} solver workers, failures: {stats['failures']}")  # fmt: skip
    print(f"throughput   {stats['requests'] / stats['elapsed_s']:.0f} plans/s")
    print(f"latency      p50 {stats['p50_ms']:.1f} ms, p99 {stats['p99_ms']:.1f} ms")
    print(
        f"server memory (main process and {args.workers} workers together): "
        f"RSS {idle[0]:.0f} MB idle, {busy[0]:.0f} MB after the run; "
        f"PSS {idle[1]:.0f} MB idle, {busy[1]:.0f} MB after the run"
    )


if __name__ == "__main__":
    main()
