"""The heat pump block: electrical power P per step, heat COP·P into its heat sink.

With a minimum running power (or on/off operation) a binary u per step gives
P ∈ {0} ∪ [P_min, P_max]; otherwise P is continuous in [0, P_max] and the block is linear.

Run-time rules (minimum run and pause, starts) act on u: solve/run_rules.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.model import HeatPump
from ..problem.timegrid import FloatArray, TimeGrid
from ..solve.builder import IntArray, ModelBuilder, PowerTerms
from ..solve.limits import on_off_power
from ..solve.run_rules import add_run_rules
from .storage import StorageBlock


@dataclass(frozen=True)
class HeatPumpBlock:
    heat_pump: HeatPump
    power: IntArray
    running: IntArray  # binaries, empty when the heat pump modulates from zero
    starts: IntArray  # start indicators, empty without run-time rules

    def power_terms(self) -> PowerTerms:
        return PowerTerms(
            np.arange(self.power.size, dtype=np.int64), self.power, np.ones(self.power.size)
        )


def build_heat_pump(
    builder: ModelBuilder,
    heat_pump: HeatPump,
    sink: StorageBlock,
    grid: TimeGrid,
    *,
    power_cost: FloatArray,
    idle: bool = False,
    modulating: bool = False,
) -> HeatPumpBlock:
    """`modulating` drops the minimum power (the baseline needs no on/off detail)."""
    n = grid.n_steps
    capacity = np.zeros(n) if idle else heat_pump.power_capacity_kw
    power = builder.columns(n, upper=capacity, cost=power_cost)
    # Heat raises the sink's state: the sink's dynamics row gets −(state per kW)·COP·P.
    builder.coefficients(sink.dynamics, power, -sink.heat_inflow_per_kw * heat_pump.cop)
    running = np.empty(0, dtype=np.int64)
    if heat_pump.needs_binaries and not idle and not modulating:
        assert heat_pump.min_power_kw is not None
        minimum = np.minimum(heat_pump.min_power_kw, capacity)
        running = on_off_power(builder, power, capacity, minimum, f"{heat_pump.name}/running")
    starts = np.empty(0, dtype=np.int64)
    if running.size and heat_pump.run_rules.active:
        starts = add_run_rules(builder, heat_pump.run_rules, running)
    return HeatPumpBlock(heat_pump=heat_pump, power=power, running=running, starts=starts)
