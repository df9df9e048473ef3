"""The baseline's two ways (baseline.py's simulation, the LP of the same rule) must agree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event

from flexems_optimizer.baseline import simulate
from flexems_optimizer.problem.model import SiteProblem, Storage
from flexems_optimizer.scheduler import lp_baseline_energy
from flexems_optimizer.solve.accounting import energy_cost
from flexems_optimizer.solve.highs import SolverSettings


def assert_baseline_follows_its_rule(parsed: SiteProblem, plan: dict[str, Any]) -> None:
    """Where the simulation gives the baseline, the LP of the same rule finds the same energy
    cost; the plan reports whichever applies."""
    reported = plan["costs"]["baseline_energy_eur"]
    by_lp = lp_baseline_energy(parsed, SolverSettings())
    simulated = simulate(parsed)
    if simulated is None:
        event("baseline by LP")
        assert reported == pytest.approx(by_lp, rel=1e-6, abs=1e-6)
        return
    value = energy_cost(parsed, simulated.net_kw, simulated.devices)
    assert reported == pytest.approx(value, rel=1e-6, abs=1e-6)
    if any(
        isinstance(d, Storage) and not d.is_heat_sink and d.storage_efficiency_per_step < 1
        for d in parsed.devices
    ):
        # Standing losses against the LP's linear earliness weight: the LP may charge a little
        # later than "as soon as possible" (README: The plan); the simulation is the rule.
        event("baseline simulated, lossy storage")
        return
    event("baseline simulated")
    assert value == pytest.approx(by_lp, rel=1e-6, abs=1e-6)
