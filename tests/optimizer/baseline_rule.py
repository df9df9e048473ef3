"""The baseline's two ways (baseline.py's simulation, the LP of the same rule) must agree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import event

from flexems_optimizer.baseline import simulate
from flexems_optimizer.problem.model import SiteProblem
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
    event("baseline simulated")
    value = energy_cost(parsed, simulated.net_kw, simulated.devices)
    assert reported == pytest.approx(value, rel=1e-6, abs=1e-6)
    assert value == pytest.approx(by_lp, rel=1e-6, abs=1e-6)
