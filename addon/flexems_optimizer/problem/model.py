"""The parsed site problem: frozen dataclasses, units in the names, arrays on the time grid.

Array conventions: per-step arrays have one value per step (power, prices); per-state arrays
have one value per step *end* (index j is the state at the end of step j). NaN means "none".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from .timegrid import FloatArray, TimeGrid


@dataclass(frozen=True)
class RunRules:
    """Run-time rules of an on/off device (a heat pump, a charger with a minimum power), in plan
    steps: a run lasts at least min_run_steps, a pause at least min_off_steps; at most
    max_starts starts in the horizon and max_starts_per_day in each day (the days begin at the
    steps in day_starts, besides the first), each costing start_cost (wear, not energy, in the
    problem's currency). The state before the horizon (None: unknown) holds for the first
    initial_hold_steps steps (what is left of a minimum run or pause already begun)."""

    min_run_steps: int = 1
    min_off_steps: int = 1
    max_starts: int | None = None
    max_starts_per_day: int | None = None
    day_starts: tuple[int, ...] = ()
    initial_on: bool | None = None
    initial_hold_steps: int = 0
    start_cost: float = 0.0

    def day_of_step(self, n_steps: int) -> npt.NDArray[np.int64]:
        """The day (0: the first, which may be partial) each of n_steps steps belongs to."""
        return np.searchsorted(np.asarray(self.day_starts, dtype=np.int64),
                               np.arange(n_steps), side="right")  # fmt: skip

    @property
    def active(self) -> bool:
        return (
            self.min_run_steps > 1
            or self.min_off_steps > 1
            or self.max_starts is not None
            or self.max_starts_per_day is not None
            or self.initial_on is not None
            or self.start_cost > 0
        )


NO_RUN_RULES = RunRules()

# FlexMeasures' default breach prices when constraints are relaxed.
DEFAULT_SOC_BREACH_PRICE_PER_KWH = 1000.0
DEFAULT_CAPACITY_BREACH_PRICE_PER_KW = 10000.0
COMMUNITY_BREACH_PRICE_PER_KW = 100.0


class Objective(StrEnum):
    COST = "cost"
    CO2 = "co2"
    SELF_CONSUMPTION = "self-consumption"


@dataclass(frozen=True)
class SocTarget:
    """A soc-target as given, and the state (step end) it applies to."""

    state_index: int
    value_kwh: float
    source_index: int


@dataclass(frozen=True)
class Storage:
    """A storage flex-model (battery, EV), or a heat sink charged only by heat pumps.

    A heat sink's state may be heat content (kWh) or temperature (°C, `state_unit` "K" for
    differences): a first-order thermal model C·dT/dt = Q + gains − UA·(T − T_ambient) has the
    same exact discretisation as the stock, with ε = e^(−UA·Δt/C), `net_gain_kw` holding
    (gains − usage + UA·T_ambient)/C in K/h and `heat_input_per_kw` = 1/C.
    """

    name: str
    path: str
    soc_at_start_kwh: float
    soc_min_kwh: float
    soc_max_kwh: float
    soc_minima_kwh: FloatArray  # per state
    soc_maxima_kwh: FloatArray  # per state
    targets: tuple[SocTarget, ...]
    net_gain_kw: FloatArray  # soc-gain minus soc-usage, per step, in stock terms
    charging_efficiency: float
    discharging_efficiency: float
    storage_efficiency_per_step: float
    consumption_capacity_kw: FloatArray  # hard, per step (0 where unavailable)
    production_capacity_kw: FloatArray
    soft_consumption_capacity_kw: FloatArray  # NaN where none
    soft_production_capacity_kw: FloatArray
    prefer_charging_sooner: bool
    own_price: FloatArray | None = None  # its own tariff (currency/kWh), else the site's
    is_heat_sink: bool = False
    state_unit: str = "kWh"  # "kWh" (heat content, stock) or "K" (temperature in °C)
    heat_input_per_kw: float = 1.0  # state change per hour per kW of heat received
    # Breach prices per unit of state per state (e.g. a comfort price × Δt), when the device
    # sets its own instead of the flex-context's soc breach prices.
    lower_breach_price: float | None = None
    upper_breach_price: float | None = None
    # Charging is 0 or at least this, per step (an EV charger's minimum current, a switched
    # charger: its whole capacity); None: charging modulates from zero.
    min_charging_kw: FloatArray | None = None
    run_rules: RunRules = NO_RUN_RULES  # of its charging, when it has a minimum power

    @property
    def is_lossless(self) -> bool:
        return self.charging_efficiency == 1.0 and self.discharging_efficiency == 1.0


@dataclass(frozen=True)
class HeatPump:
    """An electric heat source (heat pump, or a heating element with COP 1) feeding a heat sink."""

    name: str
    path: str
    heats: str
    power_capacity_kw: FloatArray
    min_power_kw: float | None  # when running, at least this (on/off: the capacity)
    cop: FloatArray
    prefer_running_sooner: bool
    own_price: FloatArray | None = None
    run_rules: RunRules = NO_RUN_RULES

    @property
    def needs_binaries(self) -> bool:
        return self.min_power_kw is not None and self.min_power_kw > 0


class ProcessPolicy(StrEnum):
    INFLEXIBLE = "INFLEXIBLE"
    SHIFTABLE = "SHIFTABLE"
    BREAKABLE = "BREAKABLE"


@dataclass(frozen=True)
class Process:
    """A process (washing machine, dishwasher) that runs a power profile once."""

    name: str
    path: str
    profile_kw: FloatArray  # power per step of the run
    policy: ProcessPolicy
    allowed_steps: npt.NDArray[np.bool_]  # per step: may run then
    allowed_starts: npt.NDArray[np.int64]  # step indices where the whole run fits
    maximize: bool  # optimization-sense MAX: prefer the most expensive steps
    own_price: FloatArray | None = None


@dataclass(frozen=True)
class ModeElement:
    """One range of an S2 FRBC operation mode: it applies while the fill level at a step's
    start lies in [fill_level_low, fill_level_high] (the mode's outermost ranges are open-ended:
    −inf/inf), and factor 0 → 1 moves power and fill rate linearly between their two ends."""

    fill_level_low: float
    fill_level_high: float
    power_kw: tuple[float, float]  # electric, consumption positive, at factor 0 and 1
    fill_rate_per_h: tuple[float, float]  # fill level units per hour, at factor 0 and 1
    running_cost_per_h: float  # besides energy, in the problem's currency

    @property
    def modulates(self) -> bool:
        power, rate = self.power_kw, self.fill_rate_per_h
        return power[0] != power[1] or rate[0] != rate[1]


@dataclass(frozen=True)
class OperationMode:
    id: str
    elements: tuple[ModeElement, ...]


@dataclass(frozen=True)
class ModeTransition:
    id: str
    from_mode: str
    to_mode: str
    start_timers: tuple[str, ...]
    blocking_timers: tuple[str, ...]
    cost: float  # per transition, in the problem's currency


@dataclass(frozen=True)
class ModeTimer:
    """A timer started by transitions, blocking others while it runs: `steps` is its duration
    in plan steps (rounded up, never shorter); a timer running at the plan's start blocks its
    transitions before boundary `running_until_boundary` (0: not running)."""

    id: str
    steps: int
    running_until_boundary: int = 0


@dataclass(frozen=True)
class Actuator:
    """One actuator of an FRBC device: its normal operation modes, the transitions between
    them, its timers, and the mode the RM last said is active (None: unknown or abnormal)."""

    id: str
    modes: tuple[OperationMode, ...]
    transitions: tuple[ModeTransition, ...]
    timers: tuple[ModeTimer, ...]
    active_mode: str | None


@dataclass(frozen=True)
class FillRateDevice:
    """An S2 FRBC device (fill-rate based control): actuators filling one storage.

    `buffer` is the storage in the RM's own fill-level unit: its stock is the fill level, its
    losses the leakage (a straight line in the fill level), its usage the usage forecast, its
    soft bounds the fill-level range and target profile. Its actuators add their fill rate.
    """

    name: str
    path: str
    buffer: Storage
    actuators: tuple[Actuator, ...]
    fill_level_label: str | None
    own_price: None = None  # behind the main meter


ENERGY_BREACH_PRICE = 10.0  # currency per kWh an S2 device's energy window misses


@dataclass(frozen=True)
class EnergyWindow:
    """Energy a device must take (or give, negative) over part of the horizon: Σ share·power·Δt
    within [min_kwh, max_kwh] (the share of each step inside the window)."""

    share: FloatArray
    min_kwh: float
    max_kwh: float


@dataclass(frozen=True)
class PowerEnvelopeDevice:
    """An S2 PEBC device (power envelope based control), e.g. a curtailable PV inverter.

    It runs at its forecast unless an envelope moves it: per step its power may be anywhere
    from `lowest_kw` to `highest_kw` (what the allowed limit ranges of the power constraints in
    force can make of the forecast); the lower limit may be set within `lower_limit_kw`
    (min, max per step), the upper within `upper_limit_kw` (−inf/inf: not offered);
    `constraints` is the id of the power constraints in force per step (None: none, the
    forecast holds). Energy windows are soft: a miss costs ENERGY_BREACH_PRICE per kWh.
    """

    name: str
    path: str
    commodity_quantities: tuple[str, ...]
    forecast_kw: FloatArray
    lowest_kw: FloatArray
    highest_kw: FloatArray
    lower_limit_kw: tuple[FloatArray, FloatArray]
    upper_limit_kw: tuple[FloatArray, FloatArray]
    constraints: tuple[str | None, ...]
    energy_windows: tuple[EnergyWindow, ...]
    own_price: None = None  # behind the main meter


type Device = Storage | HeatPump | Process | FillRateDevice | PowerEnvelopeDevice


@dataclass(frozen=True)
class SiteLimit:
    """A limit on site import (or export), per step: the hard part and the soft part.

    FlexMeasures' semantics: `site-power-capacity` is physical (hard, unless constraints are
    relaxed); `site-consumption-capacity` / `site-production-capacity` are contractual and soft
    when a breach price applies. inf means no limit; `*_source` name the key behind each step.
    """

    hard_kw: FloatArray
    hard_source: tuple[str, ...]
    soft_kw: FloatArray
    soft_source: tuple[str, ...]
    breach_price_per_kw: float


@dataclass(frozen=True)
class FlexContext:
    """The site around the devices: prices, limits, inflexible load and production."""

    consumption_price: FloatArray  # currency/kWh per step
    production_price: FloatArray
    co2_intensity_kg_per_kwh: FloatArray | None
    site_consumption: SiteLimit
    site_production: SiteLimit
    site_peak_consumption_kw: float
    site_peak_consumption_price_per_kw: float
    site_peak_production_kw: float
    site_peak_production_price_per_kw: float
    inflexible_consumption_kw: FloatArray
    inflexible_production_kw: FloatArray
    soc_minima_breach_price_per_kwh: float | None  # None: soc-minima/targets are hard
    soc_maxima_breach_price_per_kwh: float | None
    device_consumption_breach_price_per_kw: float | None  # None: device capacities are hard
    device_production_breach_price_per_kw: float | None
    relax_constraints: bool
    # A community host's signal (currency/kWh on the site's net consumption per step): it
    # steers the plan like a price but is not paid, so it stays out of the plan's costs.
    community_price: FloatArray | None = None
    # The member's share of a community's shared limit (kW per step, inf: none; negative: its
    # neighbours count on its export): soft at COMMUNITY_BREACH_PRICE_PER_KW, above any energy
    # price but far below what a missed EV target or comfort limit costs, so a member never
    # fails its own needs for it: it breaches, and the host sees the share is too small.
    community_consumption_kw: FloatArray | None = None
    community_production_kw: FloatArray | None = None


@dataclass(frozen=True)
class SiteProblem:
    grid: TimeGrid
    objective: Objective
    currency: str
    flex_context: FlexContext
    devices: tuple[Device, ...]
    notes: tuple[str, ...]  # inputs that were valid but had no effect (e.g. a target past the end)
