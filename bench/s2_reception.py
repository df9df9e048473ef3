"""S2 reception under load: 100 Resource Managers connected at once to the real service, each
sending power measurements and forecasts as fast as its ReceptionStatus comes back, while the
site they belong to is planned again after every forecast. Prints the time from a message to
its ReceptionStatus (p50, p99, worst) and the messages per second.

Run: `.venv/bin/python bench/s2_reception.py [--rms 100] [--messages 50]`.
Goal (issue 11): p99 < 100 ms with 100 RMs connected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

import aiohttp
from service import TOKEN, serving


async def rm(url: str, index: int, messages: int, latencies: list[float]) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    quantity = "ELECTRIC.POWER.3_PHASE_SYMMETRIC"
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        await ws.receive()  # the CEM's Handshake

        async def send(kind: str, **fields: Any) -> None:
            sent = time.perf_counter()
            await ws.send_str(json.dumps({"message_type": kind, "message_id": f"m{index}-{sent}",
                                          **fields}))  # fmt: skip
            while True:  # a HandshakeResponse or SelectControlType may come before the status
                reply = json.loads((await ws.receive()).data)
                if reply["message_type"] == "ReceptionStatus":
                    latencies.append(time.perf_counter() - sent)
                    return

        await send("Handshake", role="RM", supported_protocol_versions=["0.0.2-beta"])
        await send(
            "ResourceManagerDetails", resource_id=f"device-{index}",
            roles=[{"role": "ENERGY_CONSUMER", "commodity": "ELECTRICITY"}],
            instruction_processing_delay=1000, available_control_types=["NOT_CONTROLABLE"],
            provides_forecast=True, provides_power_measurement_types=[quantity],
        )  # fmt: skip
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for i in range(messages):
            if i % 10 == 0:
                value = {"commodity_quantity": quantity, "value_expected": 100.0 + i}
                element = {"duration": 3_600_000, "power_values": [value]}
                await send("PowerForecast", start_time=now, elements=[element])
            else:
                value = {"commodity_quantity": quantity, "value": 100.0 + i}
                await send("PowerMeasurement", measurement_timestamp=now, values=[value])


async def run(url: str, rms: int, messages: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(rm(url, i, messages, latencies) for i in range(rms)))
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rms", type=int, default=100)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()
    with serving() as service:
        # A rolling day (planned from the current step) with a battery and constant prices.
        home = {"duration": "P1D", "resolution": "PT15M",
                "flex-context": {"consumption-price": "0.30 EUR/kWh"},
                "flex-model": [{"name": "battery", "soc-at-start": 5, "soc-max": 10,
                                "power-capacity": 5}]}  # fmt: skip
        request = urllib_put(f"{service.url}/api/v1/sites/home", home)
        assert request == 201, request
        latencies, seconds = asyncio.run(
            run(f"ws://127.0.0.1:{service.port}/api/v1/s2", args.rms, args.messages)
        )
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"{args.rms} RMs, {len(latencies)} messages in {seconds:.2f} s "
          f"({len(latencies) / seconds:.0f}/s); ReceptionStatus after: "
          f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
          f"worst {ordered[-1] * 1000:.1f} ms")  # fmt: skip


def urllib_put(url: str, body: dict[str, Any]) -> int:
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="PUT")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(request) as response:
        return int(response.status)


if __name__ == "__main__":
    main()
