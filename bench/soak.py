"""Soak: the real service under steady load for a while (default 5 minutes), sampled every
30 s: plans/s, p99 latency, the memory of the service and its workers, the database's size.
Memory and the store must stay flat; the store's bounds (age, count, size) hold it.

Run: `.venv/bin/python bench/soak.py [--seconds 300] [--clients 4] [--max-jobs 2000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from service import HEADERS, memory_mb, serving

from flexems_optimizer.samples import home_battery


async def load(
    url: str, pid: int, seconds: float, clients: int, window_s: float, database: Path
) -> None:
    import aiohttp

    bodies = [json.dumps(home_battery(96, 15, seed=seed)).encode() for seed in range(20)]
    latencies: list[float] = []
    failures = 0
    deadline = time.monotonic() + seconds

    async def client(session: aiohttp.ClientSession, offset: int) -> None:
        nonlocal failures
        i = offset
        while time.monotonic() < deadline:
            started = time.perf_counter()
            async with session.post(
                f"{url}/api/v1/schedules?wait=30", data=bodies[i % len(bodies)], headers=HEADERS
            ) as response:
                job = await response.json()
                if response.status != 200 or job.get("status") != "finished":
                    failures += 1
            latencies.append(time.perf_counter() - started)
            i += clients

    async def sample(pid: int) -> None:
        print(f"{'t (s)':>6} {'plans/s':>8} {'p99 ms':>7} {'RSS MB':>7} {'PSS MB':>7} "
              f"{'store MB':>9} {'failures':>8}")  # fmt: skip
        started = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(window_s)
            window, latencies[:] = sorted(latencies), []
            rss, pss = memory_mb(pid)
            store = sum(p.stat().st_size for p in database.parent.glob(database.name + "*"))
            p99 = window[int(0.99 * (len(window) - 1))] * 1e3 if window else float("nan")
            elapsed = time.monotonic() - started
            print(f"{elapsed:6.0f} {len(window) / window_s:8.0f} {p99:7.1f} {rss:7.0f} "
                  f"{pss:7.0f} {store / 2**20:9.1f} {failures:8d}", flush=True)  # fmt: skip

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(sample(pid), *(client(session, i) for i in range(clients)))
    if latencies:
        print(f"median latency over the last window: {statistics.median(latencies) * 1e3:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--window", type=float, default=30)
    parser.add_argument("--max-jobs", type=int, default=2000)
    parser.add_argument("--port", type=int, default=18778)
    args = parser.parse_args()
    with serving("--workers", "2", "--max-jobs", str(args.max_jobs), port=args.port) as service:
        print(f"soak: {args.seconds:.0f} s, {args.clients} clients, 96-step battery plans, "
              f"2 workers, at most {args.max_jobs} jobs kept")  # fmt: skip
        asyncio.run(
            load(service.url, service.process.pid, args.seconds, args.clients, args.window,
                 service.data_dir / "flexems.sqlite")
        )  # fmt: skip


if __name__ == "__main__":
    main()
