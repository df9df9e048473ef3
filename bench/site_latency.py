"""How long a site kept in the add-on takes from a change to its plan, on the real service: the
sample homes are PUT as sites (each a new revision of one site, in turn), and we time the plan
of that revision (`GET .../plan?revision=&wait=`, what the integration waits for), then watch
the events channel for a cheaper plan of the same revision that follows it. Last, a change
that comes while the hard home's longer search runs (1 s after its first plan): the time to
the plan of that change.

Run: `.venv/bin/python bench/site_latency.py [--rounds 3] [--search-limit 10]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from service import HEADERS, serving

from flexems_optimizer.samples import coupled_site, hard_home, home_battery

HOMES = {
    "battery, 96 steps (LP)": lambda: home_battery(96, 15),
    "coupled on/off, 96 steps": lambda: coupled_site(96, 15, on_off=True),
    "hard home, 96 steps": lambda: hard_home(96, 0),
    "hard home, 192 steps": lambda: hard_home(192, 1),
}


async def one_change(url: str, home: dict[str, Any], follow_s: float) -> tuple[float, float, int]:
    """(seconds to the revision's plan, seconds to its last plan, plans of it received)."""
    import aiohttp

    async with aiohttp.ClientSession(headers=HEADERS) as session:
        started = time.perf_counter()
        async with session.put(f"{url}/api/v1/sites/bench", data=json.dumps(home)) as put:
            revision = (await put.json())["revision"]
        # Opened after the PUT (the site must exist); it sends the latest plan first anyway.
        events = await session.ws_connect(f"{url}/api/v1/sites/bench/events")
        plan_url = f"{url}/api/v1/sites/bench/plan?revision={revision}&wait=60"
        async with session.get(plan_url) as got:
            assert got.status == 200, await got.text()
        first = time.perf_counter() - started
        last, plans, seen = first, 0, set()
        deadline = time.perf_counter() + follow_s
        while (left := deadline - time.perf_counter()) > 0:
            try:
                message = await events.receive_json(timeout=left)
            except TimeoutError:
                break
            is_new = message.get("planned_at") not in seen
            if message.get("type") == "plan" and message["revision"] == revision and is_new:
                seen.add(message["planned_at"])
                plans += 1
                last = time.perf_counter() - started
        await events.close()
        return first, last, plans


async def change_during_search(url: str) -> float:
    """Seconds from a change made during a longer search to the plan of that change."""
    import aiohttp

    async with aiohttp.ClientSession(headers=HEADERS) as session:
        for seed in (0, 1):
            if seed == 1:
                await asyncio.sleep(1.0)  # the first plan is out; its longer search runs
                started = time.perf_counter()
            body = json.dumps(hard_home(96, seed))
            async with session.put(f"{url}/api/v1/sites/bench", data=body) as put:
                revision = (await put.json())["revision"]
            plan_url = f"{url}/api/v1/sites/bench/plan?revision={revision}&wait=60"
            async with session.get(plan_url) as got:
                assert got.status == 200, await got.text()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--search-limit", type=float, default=10.0)
    args = parser.parse_args()
    with serving("--search-time-limit", f"{args.search_limit:g}") as service:
        url = service.url
        print(f"{'home':<26} {'plan of the change':>19} {'last plan of it':>16} {'plans':>6}")
        for name, make in HOMES.items():
            firsts, lasts, counts = [], [], []
            for _ in range(args.rounds):
                first, last, plans = asyncio.run(
                    one_change(url, make(), follow_s=args.search_limit + 3)
                )
                firsts.append(first)
                lasts.append(last)
                counts.append(plans)
            print(f"{name:<26} {statistics.median(firsts):17.3f} s "
                  f"{statistics.median(lasts):14.3f} s {max(counts):6d}")  # fmt: skip
        waits = [asyncio.run(change_during_search(url)) for _ in range(args.rounds)]
        print(f"a change during the hard home's longer search: its plan after "
              f"{statistics.median(waits):.3f} s (median of {args.rounds})")  # fmt: skip


if __name__ == "__main__":
    main()
