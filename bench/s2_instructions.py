"""From an RM's status to new instructions on the wire, with the real service: a home with a
battery and an EV of its own and three FRBC devices (the S2 example's hot-water heat pump, a
battery and an EV, s2/examples.py) at 96 steps of 15 minutes. The heat pump's RM reports its
buffer alternately too cold (flexems must start it: an instruction) and nearly full (flexems
must take that back: a revocation); each status waits for the debounce to pass. Prints p50,
p95 and worst of the time from the status to the first instruction or revocation, and what
the planning took (the plan's own solve time).

Run: `.venv/bin/python bench/s2_instructions.py [--statuses 30] [--search-limit S]`.
Goal (issue 11): p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from s2_reception import urllib_put
from service import TOKEN, serving

from flexems_optimizer.s2 import examples
from flexems_optimizer.s2.frbc import KEYS

FRBC = "FILL_RATE_BASED_CONTROL"
ANSWERS = ("FRBC.Instruction", "RevokeObject")


class Device:
    """One FRBC RM: describes itself, then answers nothing but reads all the CEM sends."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, name: str) -> None:
        self.ws = ws
        self.name = name
        self.count = 0
        self.answers: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.statuses: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def read(self) -> None:
        async for frame in self.ws:
            message = json.loads(frame.data)
            kind = message["message_type"]
            if kind == "ReceptionStatus":
                waiting = self.statuses.pop(message["subject_message_id"], None)
                if waiting is not None:
                    waiting.set_result(message)
            elif kind in ANSWERS:
                await self.answers.put((time.perf_counter(), message))

    async def send(self, kind: str, fields: dict[str, Any]) -> float:
        self.count += 1
        message_id = f"{self.name}-{self.count}"
        waiting = asyncio.get_running_loop().create_future()
        self.statuses[message_id] = waiting
        body = {k: v for k, v in fields.items() if k not in ("message_id", "message_type")}
        sent = time.perf_counter()
        await self.ws.send_str(json.dumps({"message_type": kind, "message_id": message_id,
                                           **body}))  # fmt: skip
        status = await asyncio.wait_for(waiting, 10)
        assert status["status"] == "OK", status
        return sent


async def connect(
    session: aiohttp.ClientSession, url: str, name: str, messages: dict[str, Any]
) -> Device:
    ws = await session.ws_connect(url, headers={"Authorization": f"Bearer {TOKEN}"})
    device = Device(ws, name)
    await ws.receive()  # the CEM's Handshake
    asyncio.get_running_loop().create_task(device.read())
    await device.send("Handshake", {"role": "RM", "supported_protocol_versions": ["0.0.2-beta"]})
    await device.send("ResourceManagerDetails", examples.details(name, name, [FRBC]))
    kinds = {key: kind for kind, key in KEYS.items()}
    for key, value in messages.items():
        for body in value if isinstance(value, list) else [value]:
            await device.send(kinds[key], body)
    return device


async def run(url: str, statuses: int) -> list[float]:
    async with aiohttp.ClientSession() as session:
        return await measure(session, url, statuses)


async def measure(session: aiohttp.ClientSession, url: str, statuses: int) -> list[float]:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    hot_water = examples.heat_pump(yesterday, fill_level=50.0)
    heat_pump = await connect(session, url, "hot-water", hot_water)
    await connect(session, url, "home-battery", examples.battery(yesterday))
    ready = datetime.now(UTC) + timedelta(hours=10)
    await connect(session, url, "car", examples.ev(yesterday, ready_at=ready))
    await asyncio.sleep(5)  # the first plans and their instructions
    while not heat_pump.answers.empty():
        heat_pump.answers.get_nowait()
    latencies = []
    for index in range(statuses):
        await asyncio.sleep(1.3)  # past the debounce: each status is planned at once
        level = 44.0 if index % 2 == 0 else 54.5
        sent = await heat_pump.send("FRBC.StorageStatus", {"present_fill_level": level})
        answered, _ = await asyncio.wait_for(heat_pump.answers.get(), 60)
        latencies.append(answered - sent)
        await asyncio.sleep(0.5)
        while not heat_pump.answers.empty():
            heat_pump.answers.get_nowait()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statuses", type=int, default=30)
    parser.add_argument("--search-limit", type=float, default=None)
    args = parser.parse_args()
    options = [] if args.search_limit is None else ["--search-time-limit", str(args.search_limit)]
    with serving(*options) as service:
        base, port = service.url, service.port
        step = datetime.fromtimestamp(time.time() // 900 * 900, UTC)
        home = {"duration": "P1D", "resolution": "PT15M", "flex-context": {
            "consumption-price": {"start": step.isoformat(), "resolution": "PT1H",
                                  "values": [0.2 + 0.1 * ((h // 4) % 2) for h in range(30)]},
            "site-power-capacity": "17 kW"},
            "flex-model": [
                {"name": "battery", "soc-at-start": 5, "soc-max": 10, "power-capacity": 5},
                {"name": "ev", "soc-at-start": 20, "soc-max": 60, "power-capacity": 11,
                 "soc-targets": [{"datetime": (step + timedelta(hours=12)).isoformat(),
                                  "value": 50}]}]}  # fmt: skip
        assert urllib_put(f"{base}/api/v1/sites/home", home) == 201
        latencies = asyncio.run(run(f"ws://127.0.0.1:{port}/api/v1/s2", args.statuses))
        request = urllib.request.Request(f"{base}/api/v1/sites/home/plan")
        request.add_header("Authorization", f"Bearer {TOKEN}")
        with urllib.request.urlopen(request) as response:
            solver = json.loads(response.read())["plan"]["solver"]
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    print(f"{len(ordered)} statuses, status → instructions: p50 "
          f"{statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, worst "
          f"{ordered[-1] * 1000:.0f} ms; last plan: {solver['binaries']} binaries, solve "
          f"{solver['solve_s'] * 1000:.0f} ms, gap {solver['mip_gap']:.2%}, proven "
          f"{solver['proven_optimal']}")  # fmt: skip


if __name__ == "__main__":
    main()
