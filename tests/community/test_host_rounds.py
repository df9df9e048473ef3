"""The host's rounds with a clock of the test's own (no server): a new window carries the
last cycle's signals on, a new member starts a fresh cycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flexems_optimizer.community.coordinator import first_round, shifted
from flexems_optimizer.community.host import CommunityHost
from flexems_optimizer.community.store import CommunityStore

START = 1_780_000_200.0  # a quarter-hour boundary


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def host(tmp_path: Path, clock: Clock) -> CommunityHost:
    return CommunityHost(CommunityStore(tmp_path / "host.sqlite"), clock)


def profile(host: CommunityHost, community: str, member: str, net: list[float]) -> None:
    now = host.current_round(community, member)
    body = {"round": now["round"], "start": now["start"], "resolution": now["resolution"],
            "net_power_kw": net}  # fmt: skip
    host.post(community, member, body)


def test_a_new_window_carries_the_signals_on(host: CommunityHost, clock: Clock) -> None:
    community = host.create({"name": "x", "capacity": {"consumption": "10 kW"},
                             "horizon": "PT1H", "policy": "capacity"})  # fmt: skip
    members = []
    for name in ("a", "b"):
        code, _ = host.invite(community)
        joined = host.join(community, code, name)
        assert joined is not None
        members.append(joined[0])
    profile(host, community, members[0], [8.0, 8.0, 1.0, 1.0])
    profile(host, community, members[1], [6.0, 1.0, 1.0, 1.0])
    before = host.current_round(community, members[0])
    shares = before["signals"]["community-consumption-capacity"]["values"]
    assert before["round_in_cycle"] == 1 and shares[0] < 8.0
    clock.now += 900  # the next quarter hour
    after = host.current_round(community, members[0])
    assert after["round"] == before["round"] + 1 and after["start"] != before["start"]
    assert after["round_in_cycle"] == 1  # not back to planning alone
    moved = after["signals"]["community-consumption-capacity"]["values"]
    assert moved == [*shares[1:], shares[-1]]
    # A new member: a fresh cycle, everyone plans alone first.
    code, _ = host.invite(community)
    assert host.join(community, code, "c") is not None
    assert host.current_round(community, members[0])["round_in_cycle"] == 0


def test_shifting_moves_every_array_and_repeats_the_last_step() -> None:
    state = first_round(2, 4)
    state = shifted(state.__class__(**{**state.__dict__,
                                       "price": np.arange(8.0).reshape(2, 4)}), 1)  # fmt: skip
    assert state.price.tolist() == [[1, 2, 3, 3], [5, 6, 7, 7]]
    assert not state.converged
