"""Compile a site problem into one LinearProgram: the site block plus one block per device."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from ..devices.fill_rate import FillRateBlock, build_fill_rate
from ..devices.heat_pump import HeatPumpBlock, build_heat_pump
from ..devices.power_envelope import PowerEnvelopeBlock, build_power_envelope
from ..devices.process import ProcessBlock, build_process
from ..devices.storage import StorageBlock, Strictness, build_storage
from ..problem.model import (
    Device,
    FillRateDevice,
    HeatPump,
    Objective,
    PowerEnvelopeDevice,
    Process,
    SiteProblem,
    Storage,
)
from ..problem.timegrid import FloatArray
from .builder import IntArray, LinearProgram, ModelBuilder, PowerTerms
from .run_rules import respect_run_rules
from .site import SiteBlock, SiteWeights, build_site

# Charging (or running) sooner rather than later is a second objective among the plans of least
# cost, solved after the cost (solve/highs.py): a ramp over the steps, later steps weigh more.
# In a MILP it is a tiny cost instead, relative to the cost of 1 kW for one step: small enough
# never to outweigh a real cost difference, large enough to stay above solver tolerances.
MILP_TIE_BREAK = 1e-6
NO_STEPS: IntArray = np.empty(0, dtype=np.int64)
EMPTY_PROGRAM = ModelBuilder().build(cost_scale=1.0)


class Purpose(Enum):
    PLAN = "plan"  # the optimal plan
    DIAGNOSE = "diagnose"  # everything soft, to find what cannot be met
    BASELINE = "baseline"  # no flexibility used (baseline.py): only what the constraints demand


_STRICTNESS = {
    Purpose.PLAN: Strictness.AS_GIVEN,
    Purpose.DIAGNOSE: Strictness.ALL_SOFT,
    Purpose.BASELINE: Strictness.KEPT_WHERE_POSSIBLE,
}


@dataclass(frozen=True)
class Binaries:
    """Steps that get a binary: per device name, and for the site's import/export."""

    devices: Mapping[str, IntArray] = field(default_factory=dict)
    site: IntArray = field(default_factory=lambda: NO_STEPS)


@dataclass(frozen=True)
class CompiledProblem:
    lp: LinearProgram
    objective_scale: float  # objective in solver units = EUR × objective_scale
    site: SiteBlock
    devices: tuple[StorageBlock, ...]  # storages and heat sinks
    heat_pumps: tuple[HeatPumpBlock, ...]
    processes: tuple[ProcessBlock, ...]
    fill_rate: tuple[FillRateBlock, ...]  # S2 FRBC devices (their buffers are in `devices`)
    power_envelopes: tuple[PowerEnvelopeBlock, ...]  # S2 PEBC devices
    weights: SiteWeights
    problem_devices: tuple[Device, ...]  # in the problem's order, for reporting
    step_hours: float

    def round_integers(self, x: FloatArray) -> FloatArray:
        """Integer values near a relaxed solution that each block knows to be feasible choices:
        a storage's direction by its larger flow and its charging steps rounded with carry
        (when charging has a minimum power), the site's direction likewise, a heat pump's running
        steps rounded with carry, a process's best start (or its best steps when breakable)."""
        y = x.copy()
        self.round_into(x, y)
        rounded: FloatArray = y[self.lp.integer_columns]
        return rounded

    def round_into(self, x: FloatArray, y: FloatArray) -> None:
        """`round_integers` for this site's columns only, written into y (a joint problem of
        several sites rounds each into one vector)."""
        for storage in self.devices:
            steps = storage.binary_steps
            y[storage.mode] = x[storage.charge[steps]] >= x[storage.discharge[steps]]
            if storage.charging.size:
                # Charging steps at the minimum power that carry the relaxed energy.
                assert storage.storage.min_charging_kw is not None
                least = np.maximum(storage.storage.min_charging_kw, 1e-9)
                on = round_with_carry(np.clip(x[storage.charge] / least, 0.0, 1.0))
                on *= storage.storage.consumption_capacity_kw > 0  # not while away
                if storage.storage.run_rules.active:
                    on = respect_run_rules(on, storage.storage.run_rules)
                else:
                    on[steps] *= y[storage.mode]  # no charging where it discharges
                y[storage.charging] = on
                y[storage.mode] = np.maximum(y[storage.mode], on[steps])  # charging: charge mode
        steps = self.site.binary_steps
        site = self.site
        y[site.direction] = x[site.meter_imports[steps]] >= x[site.meter_exports[steps]]
        for pump in self.heat_pumps:
            if pump.running.size:
                # On-time at minimum power that delivers the relaxed heat, carried over steps.
                minimum = max(pump.heat_pump.min_power_kw or 0.0, 1e-9)
                on = round_with_carry(np.clip(x[pump.power] / minimum, 0.0, 1.0))
                if pump.heat_pump.run_rules.active:
                    on = respect_run_rules(on, pump.heat_pump.run_rules)
                y[pump.running] = on
        for block in self.fill_rate:
            for cols, value in block.round(x, self.step_hours):
                y[cols] = value
        for process in self.processes:
            weights = x[process.choices]
            chosen = np.zeros(weights.size)
            wanted = process.process.profile_kw.size if process.is_breakable else 1
            # The largest weights, earliest first on ties (a stable sort of the negatives).
            chosen[np.argsort(-weights, kind="stable")[:wanted]] = 1.0
            y[process.choices] = chosen


def round_with_carry(fractions: FloatArray) -> FloatArray:
    """0/1 per step keeping the running total of the fractions (rounding with carry).

    A relaxed heat pump runs thinly (u = 0.3 every step); rounding each step alone would switch
    it off everywhere. Carrying the remainder places whole "on" steps where the cumulative
    on-time crosses a whole number, so the heat delivered and its timing stay close.
    """
    cumulative = np.floor(np.cumsum(fractions) + 0.5)
    steps: FloatArray = np.diff(cumulative, prepend=0.0).clip(0.0, 1.0)
    return steps


def site_weights(problem: SiteProblem) -> SiteWeights:
    context = problem.flex_context
    n = problem.grid.n_steps
    if problem.objective is Objective.CO2:
        assert context.co2_intensity_kg_per_kwh is not None
        return SiteWeights(context.co2_intensity_kg_per_kwh, context.co2_intensity_kg_per_kwh)
    if problem.objective is Objective.SELF_CONSUMPTION:
        return SiteWeights(np.ones(n), np.zeros(n))
    signal = context.community_price
    if signal is None:
        return SiteWeights(context.consumption_price, context.production_price)
    # On net consumption: importing at a signalled step costs more, exporting then earns more.
    return SiteWeights(context.consumption_price + signal, context.production_price + signal)


def own_meter_weight(problem: SiteProblem, own_price: FloatArray) -> FloatArray:
    """What a kWh through a device's own meter weighs in the objective."""
    context = problem.flex_context
    if problem.objective is Objective.CO2:
        assert context.co2_intensity_kg_per_kwh is not None
        return context.co2_intensity_kg_per_kwh
    if problem.objective is Objective.SELF_CONSUMPTION:
        return np.ones(problem.grid.n_steps)  # always from the grid
    return own_price


def reference_step_cost(problem: SiteProblem, weights: SiteWeights) -> float:
    """The typical cost of 1 kW for one step: the unit the objective is scaled to."""
    magnitudes = np.abs(np.concatenate((weights.import_per_kwh, weights.export_per_kwh)))
    magnitudes = magnitudes[magnitudes > 0]
    per_kwh = float(np.median(magnitudes)) if magnitudes.size else 1.0
    return per_kwh * problem.grid.step_hours


def export_pays_more_steps(weights: SiteWeights) -> IntArray:
    """Steps where exporting earns more than importing costs: import/export need a binary."""
    return np.flatnonzero(weights.export_per_kwh > weights.import_per_kwh + 1e-12).astype(np.int64)


def compile_problem(
    problem: SiteProblem,
    purpose: Purpose,
    binaries: Binaries,
    *,
    idle_devices: frozenset[str] = frozenset(),
) -> CompiledProblem:
    builder = ModelBuilder()
    reference = reference_step_cost(problem, site_weights(problem))
    parts = add_site(builder, problem, purpose, binaries, idle_devices=idle_devices)
    scale = 1.0 / reference
    return replace(parts, lp=with_tie_break(builder.build(cost_scale=scale)), objective_scale=scale)


def add_site(
    builder: ModelBuilder,
    problem: SiteProblem,
    purpose: Purpose,
    binaries: Binaries,
    *,
    idle_devices: frozenset[str] = frozenset(),
) -> CompiledProblem:
    """One site's blocks, added to `builder` (which may hold other sites: a community's joint
    problem). The result's `lp` is empty and its scale 1 until the caller builds."""
    grid = problem.grid
    n = grid.n_steps
    dt = grid.step_hours
    weights = site_weights(problem)
    reference = reference_step_cost(problem, weights)
    ramp = np.arange(1, n + 1, dtype=np.float64) / n
    baseline = purpose is Purpose.BASELINE
    # Baseline (baseline.py): least throughput; storages charge earliest, heat pumps heat latest.
    asap = reference * (1.0 + ramp)
    when_needed = reference * (2.0 - ramp)
    storages: list[StorageBlock] = []
    heat_pumps: list[HeatPumpBlock] = []
    processes: list[ProcessBlock] = []
    fill_rate: list[FillRateBlock] = []
    power_envelopes: list[PowerEnvelopeBlock] = []
    own_meter: list[PowerTerms] = []
    main_meter: list[PowerTerms] = []

    def metered(terms: PowerTerms, own_price: FloatArray | None) -> None:
        if own_price is None or baseline:
            main_meter.append(terms)
            return
        own_meter.append(terms)
        weight = own_meter_weight(problem, own_price)
        builder.add_cost(terms.cols, weight[terms.steps] * terms.coefficients * dt)

    for item in problem.devices:
        if not isinstance(item, Storage | FillRateDevice):
            continue
        storage = item.buffer if isinstance(item, FillRateDevice) else item
        if baseline:
            charge_cost: FloatArray = asap
            discharge_cost: FloatArray = asap
        else:
            charge_cost = np.zeros(n)
            discharge_cost = np.zeros(n)
        block = build_storage(
            builder, storage, problem.flex_context, grid,
            strictness=_STRICTNESS[purpose],
            charge_cost=charge_cost, discharge_cost=discharge_cost,
            binary_steps=binaries.devices.get(storage.name, NO_STEPS),
            idle=storage.name in idle_devices, modulating=baseline,
        )  # fmt: skip
        storages.append(block)
        if not baseline and storage.prefer_charging_sooner and storage.name not in idle_devices:
            builder.add_tie_break(block.charge, ramp)
        if not storage.is_heat_sink:
            metered(block.power_terms(), storage.own_price)
    sinks = {block.storage.name: block for block in storages}
    for device in problem.devices:
        if isinstance(device, HeatPump):
            # Per kW of heat, not of power: else the baseline would chase the best COP.
            power_cost = when_needed * device.cop if baseline else np.zeros(n)
            heat_block = build_heat_pump(
                builder, device, sinks[device.heats], grid,
                power_cost=power_cost, idle=device.name in idle_devices, modulating=baseline,
            )  # fmt: skip
            heat_pumps.append(heat_block)
            if not baseline and device.prefer_running_sooner:
                builder.add_tie_break(heat_block.power, ramp)
            metered(heat_block.power_terms(), device.own_price)
        elif isinstance(device, Process):
            price = (
                device.own_price
                if device.own_price is not None
                else problem.flex_context.consumption_price
            )
            process_block = build_process(
                builder, device, grid, reference_cost=reference, energy_price=price,
                earliest_only=baseline,
            )  # fmt: skip
            processes.append(process_block)
            metered(process_block.power_terms(), device.own_price)
        elif isinstance(device, FillRateDevice):
            fill_block = build_fill_rate(
                builder, device, sinks[device.name], grid,
                extra_cost_per_kw=asap if baseline else None,
                device_costs=problem.objective is Objective.COST and not baseline,
                integral=not baseline,
            )  # fmt: skip
            fill_rate.append(fill_block)
            metered(fill_block.power_terms(), None)
        elif isinstance(device, PowerEnvelopeDevice):
            envelope_block = build_power_envelope(builder, device, grid)
            power_envelopes.append(envelope_block)
            metered(envelope_block.power_terms(), None)

    device_consumption, device_production = _device_power_bounds(problem)
    site = build_site(
        builder,
        problem.flex_context,
        grid,
        PowerTerms.join(main_meter),
        PowerTerms.join(own_meter),
        SiteWeights(np.zeros(n), np.zeros(n)) if baseline else weights,
        device_consumption_kw=device_consumption,
        device_production_kw=device_production,
        soften_hard_limits=purpose is Purpose.DIAGNOSE,
        price_peaks=not baseline,
        binary_steps=NO_STEPS if baseline else binaries.site,
    )
    return CompiledProblem(
        lp=EMPTY_PROGRAM,
        objective_scale=1.0,
        site=site,
        devices=tuple(storages),
        heat_pumps=tuple(heat_pumps),
        processes=tuple(processes),
        fill_rate=tuple(fill_rate),
        power_envelopes=tuple(power_envelopes),
        weights=weights,
        problem_devices=problem.devices,
        step_hours=dt,
    )


def with_tie_break(lp: LinearProgram) -> LinearProgram:
    """An LP keeps its tie-break apart, solved after the cost over the least-cost plans (exact
    and as fast as the LP without it). A MILP takes it into its objective instead, as a tiny
    cost: there it also breaks the symmetry between equally cheap on/off schedules, which the
    branch and bound needs (measured: the week-long on/off heat pump proves 0.1 % in 47-54 s
    with it, not within 60 s without)."""
    if lp.tie_break is None or not lp.integer_columns.size:
        return lp
    return replace(lp, cost=lp.cost + MILP_TIE_BREAK * lp.tie_break, tie_break=None)


def _device_power_bounds(problem: SiteProblem) -> tuple[FloatArray, FloatArray]:
    """What all devices together can draw, and feed in, per step at most."""
    n = problem.grid.n_steps
    consumption = np.zeros(n)
    production = np.zeros(n)
    for device in problem.devices:
        if isinstance(device, Storage):
            consumption += device.consumption_capacity_kw
            production += device.production_capacity_kw
        elif isinstance(device, HeatPump):
            consumption += device.power_capacity_kw
        elif isinstance(device, FillRateDevice):
            for actuator in device.actuators:
                powers = [p for m in actuator.modes for e in m.elements for p in e.power_kw]
                consumption += max(max(powers, default=0.0), 0.0)
                production += max(-min(powers, default=0.0), 0.0)
        elif isinstance(device, PowerEnvelopeDevice):
            consumption += np.maximum(device.highest_kw, 0.0)
            production += np.maximum(-device.lowest_kw, 0.0)
        else:
            consumption += np.where(device.allowed_steps, device.profile_kw.max(initial=0.0), 0.0)
    return consumption, production
