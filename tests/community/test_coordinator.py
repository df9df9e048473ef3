"""The host's round on hand-made profiles: prices, their remedies, allocations that add up to
the shared limit, capacity moved by marginal value and to members that breach."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from flexems_optimizer import ProblemError
from flexems_optimizer.community.coordinator import (
    Reports,
    Round,
    SharedCapacity,
    first_round,
    next_round,
    over_capacity_kw,
)
from flexems_optimizer.community.policy import PRESETS, Policy, parse_policy

LIMIT = SharedCapacity(np.full(4, 10.0), np.full(4, np.inf))


def reports(net: list[list[float]], values: list[list[float]] | None = None) -> Reports:
    array = np.array(net, dtype=float)
    worth = np.zeros_like(array) if values is None else np.array(values, dtype=float)
    return Reports(array, worth, np.zeros_like(array))


def test_nothing_over_the_limit_converges_at_once() -> None:
    state = next_round(Policy(), LIMIT, first_round(2, 4), reports([[4, 4, 4, 4], [5, 5, 5, 5]]))
    assert state.converged and state.number == 0
    assert not state.price.any()


def test_a_uniform_price_rises_where_the_sum_breaches_and_nowhere_else() -> None:
    policy = PRESETS["flexmeasures"]
    state = next_round(policy, LIMIT, first_round(2, 4), reports([[0, 10, 0, 0], [0, 5, 0, 0]]))
    assert state.number == 1 and not state.converged
    expected = policy.price_step_eur_per_kwh * 0.5  # 5 kW over a 10 kW limit
    assert state.price[:, 1] == pytest.approx([expected, expected])
    assert state.price[:, [0, 2, 3]].max() == 0.0


def test_discriminated_prices_fall_on_the_members_that_make_the_peak() -> None:
    policy = replace(PRESETS["discriminated"])
    state = next_round(policy, LIMIT, first_round(2, 4), reports([[0, 12, 0, 0], [0, 3, 0, 0]]))
    big, small = state.price[:, 1]
    assert big > small > 0
    assert (big + small) / 2 == pytest.approx(state.consumption_price[1])


def test_smoothing_spreads_a_rise_over_the_neighbouring_steps() -> None:
    policy = replace(PRESETS["smoothed"], smoothing_steps=1.0)
    state = next_round(policy, LIMIT, first_round(1, 4), reports([[0, 15, 0, 0]]))
    price = state.price[0]
    assert price[1] > price[0] > price[3] >= 0
    assert price[0] == pytest.approx(price[2])


def test_an_export_breach_gets_a_negative_price() -> None:
    limit = SharedCapacity(np.full(4, np.inf), np.full(4, 6.0))
    state = next_round(PRESETS["flexmeasures"], limit, first_round(1, 4), reports([[0, -9, 0, 0]]))
    assert state.price[0, 1] < 0


def test_allocation_adds_up_to_the_limit_and_takes_a_breach_from_those_who_make_it() -> None:
    policy = PRESETS["capacity"]
    state = next_round(policy, LIMIT, first_round(3, 4), reports(
        [[8, 2, 2, 2], [4, 2, 2, 2], [-1, 2, 2, 2]]
    ))  # fmt: skip
    assert state.allocating
    assert state.consumption_kw.sum(axis=0) == pytest.approx(LIMIT.consumption_kw)
    # Step 0: 1 kW over, taken 8:4 from the two importers; the exporter keeps its export.
    assert state.consumption_kw[:, 0] == pytest.approx([8 - 2 / 3, 4 - 1 / 3, -1])
    # Steps with room share it evenly.
    assert state.consumption_kw[:, 1] == pytest.approx([2 + 4 / 3] * 3)


def allocated(shares: list[float]) -> Round:
    """A round whose shares are the same at every step."""
    kw = np.repeat(np.array(shares, dtype=float)[:, None], 4, axis=1)
    return replace(first_round(len(shares), 4), number=1, consumption_kw=kw, allocating=True)


def test_spare_capacity_moves_to_the_members_whose_share_is_worth_most() -> None:
    policy = PRESETS["capacity"]
    shares = allocated([5, 5, 0]).consumption_kw
    after = next_round(policy, LIMIT, allocated([5, 5, 0]), reports(
        [[2, 5, 5, 5], [5, 5, 5, 5], [0, 0, 0, 0]],
        [[0, 1, 1, 1], [0.3, 1, 1, 1], [0.1, 1, 1, 1]],
    ))  # fmt: skip
    # Step 0: the first member needs 3 kW less (keeping a small margin); it goes 3:1.
    moved = shares[0, 0] - 2 - 0.05
    assert after.consumption_kw[:, 0] == pytest.approx([2.05, 5 + 0.75 * moved, 0.25 * moved])
    assert after.consumption_kw.sum(axis=0) == pytest.approx(LIMIT.consumption_kw)


def test_a_member_over_its_share_gets_capacity_from_those_whose_share_is_worth_least() -> None:
    policy = PRESETS["capacity"]
    after = next_round(policy, LIMIT, allocated([4, 4, 2]), reports(
        [[4, 3, 3, 3], [4, 3, 3, 3], [3, 3, 3, 3]],  # the third needs 1 kW more at step 0
        [[0.01, 0, 0, 0], [1.0, 0, 0, 0], [100, 0, 0, 0]],
    ))  # fmt: skip
    shares = after.consumption_kw[:, 0]
    assert shares[2] == pytest.approx(3.0)
    assert shares.sum() == pytest.approx(10.0)
    assert 4 - shares[0] > 10 * (4 - shares[1])  # the cheap share gives a hundred times more


def test_rounds_stop_at_the_policys_limit() -> None:
    policy = replace(PRESETS["flexmeasures"], max_rounds=2)
    state = first_round(1, 4)
    for _ in range(5):
        state = next_round(policy, LIMIT, state, reports([[0, 20, 0, 0]]))
    assert state.number == 2 and not state.converged


def test_over_capacity_counts_both_sides() -> None:
    limit = SharedCapacity(np.full(2, 5.0), np.full(2, 3.0))
    assert over_capacity_kw(limit, np.array([[6.0, -4.0]])) == pytest.approx([1.0, 1.0])


def test_policies_by_name_or_fields_and_their_errors() -> None:
    assert parse_policy("flexmeasures") == PRESETS["flexmeasures"]
    custom = parse_policy({"preset": "remedies", "damping": 1, "max-rounds": 5})
    assert (custom.damping, custom.max_rounds, custom.prices) == (1.0, 5, "discriminated")
    for raw, path in (
        ("nope", "policy"),
        ({"dampening": 1}, "policy.dampening"),
        ({"prices": "random"}, "policy.prices"),
        ({"max-rounds": 0}, "policy.max-rounds"),
        ({"smoothing-steps": -1}, "policy.smoothing-steps"),
    ):
        with pytest.raises(ProblemError) as caught:
            parse_policy(raw)
        assert caught.value.path == path
