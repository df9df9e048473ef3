"""The community host's round: members' net profiles in, each member's next signals out.

Pure numpy on (members × steps) arrays, no I/O: the HTTP host and `community simulate` run
this same function. A member's signals are a price on its net consumption per step (steers,
not paid) and, once the policy allocates capacity, its share of the shared limit per step.
Net power is consumption positive; the shared connection sees the members' sum.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..problem.timegrid import FloatArray
from .policy import Policy

MARGINAL_TOLERANCE = 1e-6  # EUR/kW: below this a member's limit does not bind
# Plans come rounded to micro-kW: a hundred members' sum is exact to well within a watt.
BREACH_TOLERANCE_KW = 1e-3
SETTLED_SHARE = 0.01  # allocations moving less than 1 % of the capacity have settled
RECLAIMED_MARGIN_KW = 0.05  # what a member keeps above its plan when its spare capacity is taken


@dataclass(frozen=True)
class SharedCapacity:
    """The shared connection's limits per step (inf: none)."""

    consumption_kw: FloatArray
    production_kw: FloatArray


@dataclass(frozen=True)
class Reports:
    """The members' latest plans: net power and the marginal value of their allocated limits
    (currency per kW, per step; zeros when the policy does not allocate)."""

    net_kw: FloatArray  # (members, steps)
    consumption_value: FloatArray
    production_value: FloatArray


@dataclass(frozen=True)
class Round:
    """One round's signals for every member, and what the host concluded."""

    number: int
    price: FloatArray  # (members, steps) EUR/kWh on net consumption
    consumption_kw: FloatArray  # (members, steps) allocated limit, inf: none
    production_kw: FloatArray
    # The uniform price per side before it is shared out (the host's own state).
    consumption_price: FloatArray  # (steps,)
    production_price: FloatArray
    # The members' profiles under the price rounds, averaged with the rounds' price steps as
    # weights: the prices' plans flip between steps, their average settles toward the joint
    # optimum (and, for LP homes, is a plan each home can carry out).
    average_kw: FloatArray  # (members, steps)
    average_weight: float
    allocating: bool
    converged: bool

    @property
    def members(self) -> int:
        return int(self.price.shape[0])


def first_round(members: int, steps: int) -> Round:
    """Round 0: no signals, every home plans alone."""
    inf = np.full((members, steps), np.inf)
    return Round(
        number=0,
        price=np.zeros((members, steps)),
        consumption_kw=inf,
        production_kw=inf.copy(),
        consumption_price=np.zeros(steps),
        production_price=np.zeros(steps),
        average_kw=np.zeros((members, steps)),
        average_weight=0.0,
        allocating=False,
        converged=False,
    )


def shifted(state: Round, steps: int) -> Round:
    """The round for a window `steps` later: every array moved left, its last step repeated
    at the end; not converged (the members' new last steps are unknown)."""

    def shift(values: FloatArray) -> FloatArray:
        tail = np.repeat(values[..., -1:], steps, axis=-1)
        moved: FloatArray = np.concatenate((values[..., steps:], tail), axis=-1)
        return moved

    return replace(
        state,
        price=shift(state.price),
        consumption_kw=shift(state.consumption_kw),
        production_kw=shift(state.production_kw),
        consumption_price=shift(state.consumption_price),
        production_price=shift(state.production_price),
        average_kw=shift(state.average_kw),
        converged=False,
    )


def over_capacity_kw(capacity: SharedCapacity, net_kw: FloatArray) -> FloatArray:
    """Per step, how far the members' sum is over the shared limit (either side), in kW."""
    total = net_kw.sum(axis=0)
    over: FloatArray = np.maximum(total - capacity.consumption_kw, 0.0) + np.maximum(
        -total - capacity.production_kw, 0.0
    )
    return over


def next_round(policy: Policy, capacity: SharedCapacity, current: Round, reports: Reports) -> Round:
    """The signals for the next round, or `current` marked converged when nothing changes."""
    breached = bool(np.any(over_capacity_kw(capacity, reports.net_kw) > BREACH_TOLERANCE_KW))
    number = current.number + 1
    if current.allocating:
        return _reallocate(policy, capacity, current, reports, breached)
    if not breached:
        return replace(current, converged=True)
    if number > policy.max_rounds:
        return current
    if current.number > 0:
        current = _averaged(policy, current, reports.net_kw)
    after = policy.capacity_after_rounds
    if after is not None and current.number >= after:
        start = current.average_kw if current.average_weight > 0 else reports.net_kw
        return _first_allocation(capacity, current, start)
    return _reprice(policy, capacity, current, reports.net_kw)


def _price_step(policy: Policy, number: int) -> float:
    """The price step of round `number` (from 0): diminishing with the damping."""
    return policy.price_step_eur_per_kwh / (1.0 + policy.damping * number)


def _averaged(policy: Policy, current: Round, net_kw: FloatArray) -> Round:
    weight = _price_step(policy, current.number - 1)
    total = current.average_weight + weight
    average = (current.average_weight * current.average_kw + weight * net_kw) / total
    return replace(current, average_kw=average, average_weight=total)


def _reprice(policy: Policy, capacity: SharedCapacity, current: Round, net_kw: FloatArray) -> Round:
    """Projected subgradient steps on each side's price: up where the sum breaches (spread to
    the neighbours by the kernel), down where it has room, never below zero."""
    step = _price_step(policy, current.number)
    total = net_kw.sum(axis=0)
    consumption = _side_price(
        current.consumption_price, total, capacity.consumption_kw, step, policy.smoothing_steps
    )
    production = _side_price(
        current.production_price, -total, capacity.production_kw, step, policy.smoothing_steps
    )
    price = _shared_out(consumption, np.maximum(net_kw, 0.0), policy.prices) - _shared_out(
        production, np.maximum(-net_kw, 0.0), policy.prices
    )
    return replace(
        current,
        number=current.number + 1,
        price=price,
        consumption_price=consumption,
        production_price=production,
    )


def _side_price(
    price: FloatArray, total_kw: FloatArray, limit_kw: FloatArray, step: float, sigma: float
) -> FloatArray:
    finite = np.isfinite(limit_kw)
    scale = np.where(finite & (limit_kw > 0), limit_kw, 1.0)
    relative = np.where(finite, (total_kw - np.where(finite, limit_kw, 0.0)) / scale, 0.0)
    rise = _spread(np.maximum(relative, 0.0), sigma)
    # Down only away from breaches and their hills, where the limit has room.
    fall = np.where(rise > 0, 0.0, np.maximum(np.minimum(relative, 0.0), -1.0))
    new: FloatArray = np.maximum(price + step * (rise + fall), 0.0)
    return np.where(finite, new, 0.0)


def _spread(values: FloatArray, sigma: float) -> FloatArray:
    """A Gaussian hill (peak 1) around each value: the step itself gets all of it, its
    neighbours less; sigma 0 leaves the values as they are."""
    if sigma <= 0:
        return values
    reach = int(np.ceil(3 * sigma))
    offsets = np.arange(-reach, reach + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    # The hill's height at each step is its tallest contribution, not their sum: a long
    # breach stays as high as its worst step instead of piling up.
    padded = np.pad(values, reach)
    windows = np.lib.stride_tricks.sliding_window_view(padded, offsets.size)
    spread: FloatArray = (windows * kernel).max(axis=1)
    return spread


def _shared_out(price: FloatArray, contribution_kw: FloatArray, rule: str) -> FloatArray:
    """Each member's price: the same for all (uniform), or half of it for all and half by the
    member's share of the side's flow (discriminated: the homes that make the peak pay most).
    Averaged over the members, both are the uniform price."""
    members = contribution_kw.shape[0]
    if rule == "none":
        return np.zeros_like(contribution_kw)
    if rule == "uniform":
        return np.broadcast_to(price, contribution_kw.shape).copy()
    total = contribution_kw.sum(axis=0)
    share = np.divide(
        contribution_kw, total, out=np.full_like(contribution_kw, 1.0 / members), where=total > 0
    )
    weights: FloatArray = 0.5 + 0.5 * members * share
    return weights * price


def _first_allocation(capacity: SharedCapacity, current: Round, net_kw: FloatArray) -> Round:
    """Each member's share of the limit, from its latest plan: the room left over is split
    evenly; a breach is taken from the members that make it, in proportion to their flow.
    The shares add up to the limit at every step, so plans that keep them keep the limit."""
    members, steps = net_kw.shape
    return replace(
        current,
        number=current.number + 1,
        price=np.zeros((members, steps)),
        consumption_kw=_allocate(net_kw, capacity.consumption_kw),
        production_kw=_allocate(-net_kw, capacity.production_kw),
        consumption_price=np.zeros(steps),
        production_price=np.zeros(steps),
        allocating=True,
    )


def _allocate(flow_kw: FloatArray, limit_kw: FloatArray) -> FloatArray:
    members = flow_kw.shape[0]
    total = flow_kw.sum(axis=0)
    finite = np.isfinite(limit_kw)
    room = np.where(finite, limit_kw, 0.0) - total
    positive = np.maximum(flow_kw, 0.0)
    positive_total = positive.sum(axis=0)
    share = np.divide(
        positive, positive_total, out=np.full_like(flow_kw, 1.0 / members),
        where=positive_total > 0,
    )  # fmt: skip
    allocated = flow_kw + np.where(room >= 0, room / members, room * share)
    return np.where(finite, allocated, np.inf)


def _reallocate(
    policy: Policy, capacity: SharedCapacity, current: Round, reports: Reports, breached: bool
) -> Round:
    if policy.allocation == "proportional":
        if not breached:
            return replace(current, converged=True)
        if current.number + 1 > policy.max_rounds:
            return current
        return _first_allocation(capacity, current, reports.net_kw)
    consumption, moved_in = _move_by_value(
        current.consumption_kw, reports.net_kw, reports.consumption_value
    )
    production, moved_out = _move_by_value(
        current.production_kw, -reports.net_kw, reports.production_value
    )
    limits = np.concatenate((capacity.consumption_kw, capacity.production_kw))
    settled = moved_in + moved_out <= SETTLED_SHARE * float(limits[np.isfinite(limits)].sum())
    if (not breached and settled) or current.number + 1 > policy.max_rounds:
        return replace(current, converged=not breached)
    return replace(
        current, number=current.number + 1, consumption_kw=consumption, production_kw=production
    )


def _cover_breaches(cap: FloatArray, flow: FloatArray, worth: FloatArray) -> FloatArray:
    """Where members still go over their shares after the spare capacity moved, the members
    that hold theirs give up what the breach needs, the ones whose share is worth least most
    (a member that breaches cannot do without; one that merely binds pays a little more)."""
    deficit = np.where(flow - cap > BREACH_TOLERANCE_KW, flow - cap, 0.0)
    needed = deficit.sum(axis=0)
    donors = (deficit == 0) & (cap > 0)
    weight = np.where(donors, cap / (worth + 1e-3), 0.0)
    total = weight.sum(axis=0)
    taken = np.minimum(needed, np.where(donors, cap, 0.0).sum(axis=0))
    give = np.divide(weight, total, out=np.zeros_like(weight), where=total > 0) * taken
    give = np.minimum(give, np.where(donors, cap, 0.0))
    received = np.divide(deficit, needed, out=np.zeros_like(deficit), where=needed > 0)
    covered: FloatArray = cap - give + received * give.sum(axis=0)
    return covered


def _move_by_value(
    allocated_kw: FloatArray, flow_kw: FloatArray, value: FloatArray
) -> tuple[FloatArray, float]:
    """Move capacity to the members whose share binds, step by step, in proportion to its
    marginal value, from the spare capacity of members whose share does not bind (they keep
    their plan and a small margin). The sum per step stays the shared limit, and no member's
    plan stops fitting its share: the members' total cost can only fall, round by round.
    Returns the allocation and the kW moved."""
    finite = np.isfinite(allocated_kw[0]) if allocated_kw.size else np.zeros(0, dtype=bool)
    if not finite.any():
        return allocated_kw, 0.0
    cap = allocated_kw[:, finite]
    flow = flow_kw[:, finite]
    worth = np.maximum(value[:, finite], 0.0)
    binding = worth > MARGINAL_TOLERANCE
    spare = np.where(binding, 0.0, np.maximum(cap - flow - RECLAIMED_MARGIN_KW, 0.0))
    total_worth = worth.sum(axis=0)
    # Where no share binds, nothing moves.
    given_up = np.where(total_worth > 0, spare, 0.0)
    pool = given_up.sum(axis=0)
    share = np.divide(worth, total_worth, out=np.zeros_like(worth), where=total_worth > 0)
    new = cap - given_up + share * pool
    new = _cover_breaches(new, flow, worth)
    moved = float(np.abs(new - cap).sum()) / 2.0
    result = allocated_kw.copy()
    result[:, finite] = new
    return result, moved
