"""The process block (FlexMeasures' ProcessScheduler semantics, inside the site MILP).

- INFLEXIBLE: the run starts at the earliest allowed start (fixed, no choice).
- SHIFTABLE: one binary per allowed start, exactly one chosen; each start feeds the whole
  power profile into the steps of its run.
- BREAKABLE: one binary per allowed step, exactly `duration` of them chosen (constant power).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.model import Process, ProcessPolicy
from ..problem.timegrid import FloatArray, TimeGrid
from ..solve.builder import IntArray, ModelBuilder, PowerTerms

# Earliest on ties, relative to the cost of 1 kW for one step (as prefer-charging-sooner).
_EARLIER = 1e-6


@dataclass(frozen=True)
class ProcessBlock:
    process: Process
    choices: IntArray  # columns: starts (INFLEXIBLE, SHIFTABLE) or steps (BREAKABLE)
    choice_steps: IntArray  # the start step or run step of each choice
    terms: PowerTerms

    @property
    def is_breakable(self) -> bool:
        return self.process.policy is ProcessPolicy.BREAKABLE

    def power_terms(self) -> PowerTerms:
        return self.terms


def build_process(
    builder: ModelBuilder,
    process: Process,
    grid: TimeGrid,
    *,
    reference_cost: float,
    energy_price: FloatArray,
    earliest_only: bool = False,
) -> ProcessBlock:
    """`energy_price` is what this process's energy costs (for optimization-sense MAX).

    `earliest_only` places the run as INFLEXIBLE would (the baseline without flexibility).
    """
    n = grid.n_steps
    profile = process.profile_kw
    length = profile.size
    ramp = np.arange(n, dtype=np.float64) / max(n, 1)
    if process.policy is ProcessPolicy.BREAKABLE:
        steps = np.flatnonzero(process.allowed_steps).astype(np.int64)
        if earliest_only:
            steps = steps[:length]
        choices = builder.columns(
            steps.size, upper=1.0, integer=not earliest_only, steps=steps,
            cost=_EARLIER * reference_cost * ramp[steps], decides=f"{process.name}/steps",
        )  # fmt: skip
        pick = builder.rows(1, lower=float(length), upper=float(length))
        builder.coefficients(np.repeat(pick, steps.size), choices, 1.0)
        terms = PowerTerms(steps, choices, np.full(steps.size, float(profile[0])))
    else:
        starts = process.allowed_starts.astype(np.int64)
        if process.policy is ProcessPolicy.INFLEXIBLE or earliest_only:
            starts = starts[:1]
        choices = builder.columns(
            starts.size, upper=1.0, integer=starts.size > 1, steps=starts,
            cost=_EARLIER * reference_cost * ramp[starts], decides=f"{process.name}/start",
        )  # fmt: skip
        pick = builder.rows(1, lower=1.0, upper=1.0)
        builder.coefficients(np.repeat(pick, starts.size), choices, 1.0)
        run_steps = (starts[:, None] + np.arange(length)[None, :]).ravel()
        terms = PowerTerms(run_steps, np.repeat(choices, length), np.tile(profile, starts.size))
        steps = starts
    if process.maximize:
        # Prefer the most expensive steps: the site already pays +price for this energy, so
        # −2·price here makes the objective see −price.
        cost = -2.0 * energy_price[terms.steps] * terms.coefficients * grid.step_hours
        builder.add_cost(terms.cols, cost)
    return ProcessBlock(process=process, choices=choices, choice_steps=steps, terms=terms)
