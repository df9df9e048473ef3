"""A member whose host stops at its round limit says so, on its status and on its site's events
channel: the shared capacity is not held, so its membership is not "converged" (a real service
each, over loopback)."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

from tests.api.server import STEP_S, Server, clear_of_a_step_boundary, events

from .members import membership_when


def only_a_load(start: float) -> dict[str, Any]:
    """A rolling site with 3 kW it cannot move: no plan can share 1 kW."""
    load = {"start": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
            "resolution": "PT15M", "values": [3.0] * 48, "unit": "kW"}  # fmt: skip
    return {
        "duration": "PT6H",
        "resolution": "PT15M",
        "flex-context": {"consumption-price": "0.30 EUR/kWh", "inflexible-consumption": load},
        "flex-model": [{"name": "battery", "soc-at-start": "1 kWh", "soc-max": "2 kWh",
                        "power-capacity": "0.5 kW"}],
    }  # fmt: skip


def test_a_member_of_a_community_stopped_at_its_round_limit_says_so(tmp_path: Path) -> None:
    clear_of_a_step_boundary(margin_s=60)
    host = Server(tmp_path / "host")
    member = Server(tmp_path / "member")
    try:
        community = host.request("POST", "/api/v1/communities", {
            "name": "tight", "capacity": {"consumption": "1 kW"}, "horizon": "PT6H",
            "round-timeout": 30, "policy": {"preset": "marginal-value", "max-rounds": 2},
        }).body["community"]  # fmt: skip
        start = math.floor(time.time() / STEP_S) * STEP_S
        assert member.request("PUT", "/api/v1/sites/home", only_a_load(start)).status == 201
        invite = host.request("POST", f"/api/v1/communities/{community}/invites", {})
        joined = member.request("PUT", "/api/v1/sites/home/community", {
            "host": host.base, "community": community, "invite": invite.body["invite"],
            "name": "home",
        })  # fmt: skip
        assert joined.status == 201, joined.body
        status = membership_when(
            member, lambda status: status["status"] not in ("starting", "planning", "posted"), 60
        )
        overview = host.request("GET", f"/api/v1/communities/{community}").body
        assert overview["status"] == "round_limit", overview
        assert status["status"] == "round_limit", status
        assert status["report"]["status"] == "round_limit"
        assert status["report"]["peak_kw"] > 1.0 + 1e-3  # the breach it could not remove
        # A listener that connects now hears the membership at once (Home Assistant's
        # community sensors follow these events), then its changes; leaving is one too.
        heard = asyncio.run(events(member, "home", 1, kinds={"community"}))
        assert [event["community"]["status"] for event in heard] == ["round_limit"]
        assert heard[0]["community"]["report"]["status"] == "round_limit"

        async def leave_while_listening() -> list[Any]:
            listening = asyncio.create_task(events(member, "home", 2, kinds={"community"}))
            await asyncio.sleep(1.0)
            gone = await asyncio.to_thread(member.request, "DELETE", "/api/v1/sites/home/community")
            assert gone.status == 204
            return await listening

        assert [event["community"] for event in asyncio.run(leave_while_listening())][1] is None
    finally:
        member.stop()
        host.stop()
