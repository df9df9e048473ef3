"""The S2 FRBC block: actuators with operation modes filling one storage (its buffer block).

Per actuator, step j and choice c (an element of a normal operation mode): a binary y[j,c],
exactly one per step, and where the element modulates a factor f[j,c] ∈ [0, y[j,c]].
Power and fill rate are linear in (y, f): P0·y + (P1 − P0)·f. An element applies only while
the fill level at the step's start lies in its range (big-M rows with the reachable fill
levels as M). The mode indicator z[j,m] is the sum of its choices.

Transitions: a mode change must be a listed transition, z[j−1,m] + Σ z[j,m'] ≤ 1 over the
modes m' not reachable from m; transitions with a cost or timers get an indicator
s[j,t] ≥ z[j−1,from] + z[j,to] − 1. A timer started by transitions into mode m that blocks every
way out of m is a minimum stay in m, written in the tight form Σ_{τ=j−K+1..j} s[τ,start] ≤ z[j,m]
(solve/run_rules.py); any other timer blocks its transitions pairwise for its K steps. The mode
the RM reports is the mode before the plan; a timer it reports running blocks its transitions
until it finishes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.model import Actuator, FillRateDevice, ModeElement, ModeTimer
from ..problem.timegrid import FloatArray, TimeGrid
from ..solve.builder import IntArray, ModelBuilder, PowerTerms
from .storage import StorageBlock, stock_coefficients

NO_COLUMNS: IntArray = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Choice:
    mode: str
    element: ModeElement
    on: IntArray  # y per step
    factor: IntArray  # f per step, empty when the element does not modulate


@dataclass(frozen=True)
class ActuatorBlock:
    actuator: Actuator
    choices: tuple[Choice, ...]

    def mode_columns(self, mode: str) -> list[IntArray]:
        return [choice.on for choice in self.choices if choice.mode == mode]


@dataclass(frozen=True)
class FillRateBlock:
    device: FillRateDevice
    buffer: StorageBlock
    actuators: tuple[ActuatorBlock, ...]

    def power_terms(self) -> PowerTerms:
        terms = []
        for actuator in self.actuators:
            for choice in actuator.choices:
                low, high = choice.element.power_kw
                terms.append(_terms(choice.on, low))
                if choice.factor.size:
                    terms.append(_terms(choice.factor, high - low))
        return PowerTerms.join(terms)

    def binaries(self) -> list[IntArray]:
        """Per actuator: its binaries as (steps × choices) column indices."""
        return [np.stack([c.on for c in a.choices], axis=1) for a in self.actuators]

    def round(self, x: FloatArray, step_hours: float) -> list[tuple[IntArray, float]]:
        """Modes per step for a warm start, from a relaxed plan x: step by step, each actuator
        takes, of the modes its transitions and running timers allow, one that keeps the fill
        level within its bounds (over a minimum stay it would start, too) and, among those,
        the one furthest behind its relaxed share so far (rounding with carry, as for an on/off
        heat pump); then the element that applies at the level reached. The level follows the
        relaxed fill rates, kept to what the chosen modes can do. Returns (column, value)."""
        storage = self.device.buffer
        a, b = stock_coefficients(storage)
        scale = b * step_hours
        lows = np.nan_to_num(storage.soc_minima_kwh, nan=-np.inf)
        highs = np.nan_to_num(storage.soc_maxima_kwh, nan=np.inf)
        rounding = [_Rounding(actuator, x) for actuator in self.actuators]
        level = storage.soc_at_start_kwh
        values: list[tuple[IntArray, float]] = []
        for step in range(storage.net_gain_kw.size):
            gain = float(storage.net_gain_kw[step])
            planned = [r.relaxed_inflow[step] for r in rounding]
            for index, r in enumerate(rounding):
                others = gain + sum(planned) - planned[index]
                inflow, chosen = r.choose(step, level, others, a, scale, lows, highs)
                planned[index] = inflow
                values += [(c.on[step : step + 1], float(c is chosen)) for c in r.block.choices]
            level = a * level + scale * (gain + sum(planned))
        return values


class _Rounding:
    """One actuator's state while its modes are rounded: where it is, its timers, its share."""

    def __init__(self, block: ActuatorBlock, x: FloatArray) -> None:
        self.block = block
        actuator = block.actuator
        self.modes = [mode.id for mode in actuator.modes]
        self.share = np.zeros((block.choices[0].on.size, len(self.modes)))
        self.relaxed_inflow = np.zeros(self.share.shape[0])
        for choice in block.choices:
            self.share[:, self.modes.index(choice.mode)] += x[choice.on]
            low, high = choice.element.fill_rate_per_h
            self.relaxed_inflow += low * x[choice.on]
            if choice.factor.size:
                self.relaxed_inflow += (high - low) * x[choice.factor]
        self.timers = {timer.id: timer for timer in actuator.timers}
        self.running_until = {t.id: t.running_until_boundary for t in actuator.timers}
        self.ways = {(t.from_mode, t.to_mode): t for t in actuator.transitions}
        self.behind = np.zeros(len(self.modes))
        self.current = actuator.active_mode

    def choose(
        self, step: int, level: float, others: float, a: float, scale: float,
        lows: FloatArray, highs: FloatArray,
    ) -> tuple[float, Choice]:  # fmt: skip
        """The mode for this step: its inflow (per hour) and the choice (element) taken."""
        self.behind += self.share[step]
        allowed = [index for index, mode in enumerate(self.modes) if self._may(mode, step)]
        misses = {index: self._miss(self.modes[index], step, level, others, a, scale, lows,
                                    highs) for index in allowed}  # fmt: skip
        least = min(misses.values())
        best = max((i for i in allowed if misses[i] <= least + 1e-9),
                   key=lambda i: (self.behind[i], self.modes[i] == self.current))  # fmt: skip
        chosen = self.modes[best]
        if self.current is not None and chosen != self.current:
            for timer in self.ways[(self.current, chosen)].start_timers:
                if timer in self.timers:
                    self.running_until[timer] = step + self.timers[timer].steps
        self.behind[best] -= 1.0
        self.current = chosen
        choice = self._element(chosen, level)
        low, high = sorted(choice.element.fill_rate_per_h)
        return min(max(self.relaxed_inflow[step], low), high), choice

    def _may(self, mode: str, step: int) -> bool:
        if self.current is None or mode == self.current:
            return True
        way = self.ways.get((self.current, mode))
        return way is not None and all(
            self.running_until.get(timer, 0) <= step for timer in way.blocking_timers
        )

    def _element(self, mode: str, level: float) -> Choice:
        candidates = [c for c in self.block.choices if c.mode == mode]
        return min(candidates, key=lambda c: _distance(c.element, level))

    def _miss(
        self, mode: str, step: int, level: float, others: float, a: float, scale: float,
        lows: FloatArray, highs: FloatArray,
    ) -> float:  # fmt: skip
        """How far the fill level must leave its bounds in this mode, over the steps it would
        have to stay in it (a minimum stay it starts), at its least and at its most fill rate."""
        stay = 1
        if self.current is not None and mode != self.current:
            way = self.ways[(self.current, mode)]
            stay = max([self.timers[t].steps for t in way.start_timers if t in self.timers],
                       default=1)  # fmt: skip
        low_rate, high_rate = sorted(self._element(mode, level).element.fill_rate_per_h)
        miss, lowest, highest = 0.0, level, level
        for ahead in range(step, min(step + stay, lows.size)):
            lowest = a * lowest + scale * (others + low_rate)
            highest = a * highest + scale * (others + high_rate)
            miss += max(lows[ahead] - highest, 0.0) + max(lowest - highs[ahead], 0.0)
        return miss


def _distance(element: ModeElement, level: float) -> float:
    """How far a fill level lies outside an element's range (0 inside)."""
    return max(element.fill_level_low - level, level - element.fill_level_high, 0.0)


def _terms(cols: IntArray, coefficient: float) -> PowerTerms:
    return PowerTerms(np.arange(cols.size, dtype=np.int64), cols, np.full(cols.size, coefficient))


def build_fill_rate(
    builder: ModelBuilder,
    device: FillRateDevice,
    buffer: StorageBlock,
    grid: TimeGrid,
    *,
    extra_cost_per_kw: FloatArray | None = None,
    device_costs: bool = True,
    integral: bool = True,
) -> FillRateBlock:
    """`extra_cost_per_kw` (per step) weighs each choice's largest power (the baseline's
    "as soon as needed"); `device_costs` (running and transition costs) off when the
    objective is not money; `integral` off relaxes the mode choices (the baseline is an
    estimate and needs no on/off detail)."""
    actuators = tuple(
        _actuator(
            builder, actuator, device, buffer, grid, extra_cost_per_kw, device_costs, integral
        )
        for actuator in device.actuators
        if actuator.modes
    )
    return FillRateBlock(device, buffer, actuators)


def _actuator(
    builder: ModelBuilder,
    actuator: Actuator,
    device: FillRateDevice,
    buffer: StorageBlock,
    grid: TimeGrid,
    extra_cost_per_kw: FloatArray | None,
    device_costs: bool,
    integral: bool,
) -> ActuatorBlock:
    n = grid.n_steps
    dt = grid.step_hours
    storage = device.buffer
    start_level = storage.soc_at_start_kwh
    floor, ceiling = storage.soc_min_kwh, storage.soc_max_kwh
    reachable = _reachable_modes(actuator)
    choices = []
    one_of = builder.rows(n, lower=1.0, upper=1.0)
    for mode in actuator.modes:
        for index, element in enumerate(mode.elements):
            upper = np.ones(n)
            if not element.fill_level_low <= start_level <= element.fill_level_high:
                upper[0] = 0.0  # the fill level now says which element applies
            if actuator.active_mode is not None and mode.id not in reachable[actuator.active_mode]:
                upper[0] = 0.0
            cost = np.zeros(n)
            if device_costs:
                cost += element.running_cost_per_h * dt
            if extra_cost_per_kw is not None:
                cost += extra_cost_per_kw * max(abs(p) for p in element.power_kw) * dt
            on = builder.columns(
                n, upper=upper, cost=cost, integer=integral, steps=np.arange(n, dtype=np.int64),
                decides=f"{device.name}/{actuator.id}/{mode.id}/{index}",
            )  # fmt: skip
            builder.coefficients(one_of, on, 1.0)
            factor = NO_COLUMNS
            if element.modulates:
                factor = builder.columns(n, upper=1.0)
                below = builder.rows(n, upper=0.0)
                builder.coefficients(below, factor, 1.0)
                builder.coefficients(below, on, -1.0)
            _fill(builder, buffer, on, factor, element)
            _applies(builder, buffer, on, element, floor, ceiling)
            choices.append(Choice(mode.id, element, on, factor))
    block = ActuatorBlock(actuator, tuple(choices))
    _transitions(builder, block, reachable, n, device_costs)
    return block


def _fill(
    builder: ModelBuilder,
    buffer: StorageBlock,
    on: IntArray,
    factor: IntArray,
    element: ModeElement,
) -> None:
    """The fill rate raises the buffer's level like heat raises a heat sink's."""
    low, high = element.fill_rate_per_h
    builder.coefficients(buffer.dynamics, on, -buffer.heat_inflow_per_kw * low)
    if factor.size:
        builder.coefficients(buffer.dynamics, factor, -buffer.heat_inflow_per_kw * (high - low))


def _applies(
    builder: ModelBuilder,
    buffer: StorageBlock,
    on: IntArray,
    element: ModeElement,
    floor: float,
    ceiling: float,
) -> None:
    """y[j] = 1 only if the level at step j's start (the state after step j − 1) is in range:
    level ≥ low − (low − floor)·(1 − y) and level ≤ high + (ceiling − high)·(1 − y)."""
    level = buffer.soc[:-1]
    later = on[1:]
    if element.fill_level_low > floor:
        rows = builder.rows(later.size, lower=floor)
        builder.coefficients(rows, level, 1.0)
        builder.coefficients(rows, later, -(element.fill_level_low - floor))
    if element.fill_level_high < ceiling:
        rows = builder.rows(later.size, upper=ceiling)
        builder.coefficients(rows, level, 1.0)
        builder.coefficients(rows, later, ceiling - element.fill_level_high)


def _reachable_modes(actuator: Actuator) -> dict[str, set[str]]:
    """Per mode, the modes a step may be in after it: itself and its transitions' targets."""
    reachable = {mode.id: {mode.id} for mode in actuator.modes}
    for transition in actuator.transitions:
        reachable[transition.from_mode].add(transition.to_mode)
    return reachable


def _transitions(
    builder: ModelBuilder,
    block: ActuatorBlock,
    reachable: dict[str, set[str]],
    n: int,
    device_costs: bool,
) -> None:
    actuator = block.actuator
    modes = [mode.id for mode in actuator.modes]
    for mode in modes:
        unreachable = [other for other in modes if other not in reachable[mode]]
        if not unreachable:
            continue
        # No step in an unreachable mode right after a step in this one.
        rows = builder.rows(n - 1, upper=1.0)
        for cols in block.mode_columns(mode):
            builder.coefficients(rows, cols[:-1], 1.0)
        for other in unreachable:
            for cols in block.mode_columns(other):
                builder.coefficients(rows, cols[1:], 1.0)
    timed = {name for t in actuator.transitions for name in (*t.start_timers, *t.blocking_timers)}
    indicators: dict[str, IntArray] = {}
    for transition in actuator.transitions:
        if not (transition.cost or transition.start_timers or transition.blocking_timers):
            continue
        upper = np.ones(n)
        for timer in actuator.timers:
            if timer.id in transition.blocking_timers:
                upper[: timer.running_until_boundary] = 0.0  # still running from before
        happens = builder.columns(n, upper=upper, cost=transition.cost if device_costs else 0.0)
        indicators[transition.id] = happens
        # s[j] ≥ z[j−1, from] + z[j, to] − 1; before the plan, `from` is the active mode.
        lower = np.full(n, -1.0)
        lower[0] = 0.0 if actuator.active_mode == transition.from_mode else -np.inf
        rows = builder.rows(n, lower=lower)
        builder.coefficients(rows, happens, 1.0)
        for cols in block.mode_columns(transition.to_mode):
            builder.coefficients(rows, cols, -1.0)
        for cols in block.mode_columns(transition.from_mode):
            builder.coefficients(rows[1:], cols[:-1], -1.0)
    for timer in actuator.timers:
        if timer.id in timed:
            _timer(builder, block, timer, indicators, reachable, n)


def _timer(
    builder: ModelBuilder,
    block: ActuatorBlock,
    timer: ModeTimer,
    indicators: dict[str, IntArray],
    reachable: dict[str, set[str]],
    n: int,
) -> None:
    transitions = block.actuator.transitions
    starting = [t for t in transitions if timer.id in t.start_timers]
    blocked = [t for t in transitions if timer.id in t.blocking_timers]
    if not starting or not blocked or timer.steps <= 1:
        return
    window = min(timer.steps, n)
    lag = np.arange(window)
    row_of = np.repeat(np.arange(n), window)
    step_of = row_of - np.tile(lag, n)
    keep = step_of >= 0
    entered = {t.to_mode for t in starting}
    if len(entered) == 1:
        (mode,) = entered
        ways_out = {t.id for t in transitions if t.from_mode == mode and t.to_mode != mode}
        if ways_out <= {t.id for t in blocked} and reachable[mode] - {mode}:
            # A minimum stay in `mode`: Σ_{τ=j−K+1..j} s[τ] ≤ z[j, mode] (the tight form).
            rows = builder.rows(n, upper=0.0)
            for t in starting:
                builder.coefficients(rows[row_of[keep]], indicators[t.id][step_of[keep]], 1.0)
            for cols in block.mode_columns(mode):
                builder.coefficients(rows, cols, -1.0)
            return
    # Otherwise pairwise: a blocked transition at j, a start within the K − 1 steps before.
    for later in blocked:
        for offset in range(1, window):
            rows = builder.rows(n - offset, upper=1.0)
            builder.coefficients(rows, indicators[later.id][offset:], 1.0)
            for t in starting:
                builder.coefficients(rows, indicators[t.id][:-offset], 1.0)
