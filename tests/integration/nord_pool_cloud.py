"""A stand-in for Nord Pool's data portal on loopback: the one thing outside this machine.

It answers `GET /api/DayAheadPrices` as the real portal does (the shape pynordpool parses),
with quarter-hour prices for the asked delivery day (CET) and area: `price(hour)` EUR/MWh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

CET = ZoneInfo("Europe/Stockholm")
NOW = "2026-06-01T10:07:00+00:00"  # 12:07 in Stockholm: today's prices out, tomorrow's not yet


def spot(moment: datetime) -> float:
    """EUR/MWh: cheap at night, dear in the evening."""
    return 40.0 + 10.0 * moment.hour


def day_ahead(day: date, areas: list[str], price: Callable[[datetime], float]) -> dict:
    start = datetime(day.year, day.month, day.day, tzinfo=CET).astimezone(ZoneInfo("UTC"))
    end = (datetime(day.year, day.month, day.day, tzinfo=CET) + timedelta(days=1)).astimezone(
        ZoneInfo("UTC")
    )
    entries = []
    moment = start
    while moment < end:
        entries.append(
            {
                "deliveryStart": moment.isoformat().replace("+00:00", "Z"),
                "deliveryEnd": (moment + timedelta(minutes=15)).isoformat().replace("+00:00", "Z"),
                "entryPerArea": {area: price(moment) for area in areas},
            }
        )
        moment += timedelta(minutes=15)
    average = sum(e["entryPerArea"][areas[0]] for e in entries) / len(entries)
    return {
        "deliveryDateCET": day.isoformat(),
        "version": 2,
        "updatedAt": f"{day.isoformat()}T11:00:00Z",
        "deliveryAreas": areas,
        "market": "DayAhead",
        "multiAreaEntries": entries,
        "blockPriceAggregates": [
            {
                "blockName": "Peak",
                "deliveryStart": entries[32]["deliveryStart"],
                "deliveryEnd": entries[79]["deliveryEnd"],
                "averagePricePerArea": {
                    area: {"average": average, "min": average, "max": average} for area in areas
                },
            }
        ],
        "currency": "EUR",
        "exchangeRate": 1,
        "areaStates": [{"state": "Final", "areas": areas}],
        "areaAverages": [{"areaCode": area, "price": average} for area in areas],
    }


class NordPoolCloud:
    """Serves day-ahead prices for the days in `published` (others: 204, not yet published)."""

    def __init__(self, price: Callable[[datetime], float], published: set[date]) -> None:
        self.price = price
        self.published = published
        self.requests: list[dict[str, str]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _prices(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append(query)
        day = date.fromisoformat(query["date"])
        if day not in self.published:
            return web.Response(status=204)
        areas = query["deliveryArea"].split(",")
        return web.json_response(day_ahead(day, areas, self.price))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api/DayAheadPrices", self._prices)
        # No keep-alive: tests jump the frozen clock, which fires the server's keep-alive timer
        # and closes an idle connection just as the client reuses it.
        self._runner = web.AppRunner(app, keepalive_timeout=0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/api"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
