"""The site block: grid import/export, the power balance, site limits and peaks.

The main meter carries the site's prices; the grid connection carries the site's limits and
peaks. They are the same unless a device has its own meter and tariff (a heat-pump tariff):
then the connection also carries that device's power, and gets columns of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.model import COMMUNITY_BREACH_PRICE_PER_KW, FlexContext
from ..problem.timegrid import FloatArray, TimeGrid
from .builder import IntArray, ModelBuilder, PowerTerms
from .limits import PeakExcess, SoftLimit, peak_excess, soft_upper_limit


@dataclass(frozen=True)
class SiteWeights:
    """Objective weight per kWh imported and per kWh exported (a credit), per step."""

    import_per_kwh: FloatArray
    export_per_kwh: FloatArray


@dataclass(frozen=True)
class SiteBlock:
    imports: IntArray  # at the grid connection
    exports: IntArray
    meter_imports: IntArray  # at the main meter (priced); the same columns without own meters
    meter_exports: IntArray
    balance: IntArray
    soft_consumption: SoftLimit | None
    soft_production: SoftLimit | None
    community_consumption: SoftLimit | None  # the community's share of a shared limit
    community_production: SoftLimit | None
    peak_consumption: PeakExcess | None
    peak_production: PeakExcess | None
    binary_steps: IntArray
    direction: IntArray  # binaries at binary_steps: 1 = may import, 0 = may export


def build_site(
    builder: ModelBuilder,
    context: FlexContext,
    grid: TimeGrid,
    meter_terms: PowerTerms,
    own_meter_terms: PowerTerms,
    weights: SiteWeights,
    *,
    device_consumption_kw: FloatArray,
    device_production_kw: FloatArray,
    soften_hard_limits: bool,
    price_peaks: bool,
    binary_steps: IntArray,
) -> SiteBlock:
    """Balance per step: import − export − Σ device power = inflexible consumption − production.

    `meter_terms` are the devices behind the main meter, `own_meter_terms` those with their own
    meter. `device_*_kw` bound what all devices can draw or feed in per step (for big-M and to
    skip limits that cannot bind). `soften_hard_limits` turns hard limits soft (diagnosis).
    """
    n = grid.n_steps
    dt = grid.step_hours
    consumption, production = context.site_consumption, context.site_production
    hard_in = np.full(n, np.inf) if soften_hard_limits else consumption.hard_kw
    hard_out = np.full(n, np.inf) if soften_hard_limits else production.hard_kw
    separate = own_meter_terms.cols.size > 0
    meter_imports = builder.columns(
        n, upper=np.inf if separate else hard_in, cost=weights.import_per_kwh * dt
    )
    meter_exports = builder.columns(
        n, upper=np.inf if separate else hard_out, cost=-weights.export_per_kwh * dt
    )
    rhs = context.inflexible_consumption_kw - context.inflexible_production_kw
    balance = builder.rows(n, lower=rhs, upper=rhs)
    builder.coefficients(balance, meter_imports, 1.0)
    builder.coefficients(balance, meter_exports, -1.0)
    builder.coefficients(balance[meter_terms.steps], meter_terms.cols, -meter_terms.coefficients)
    imports, exports = meter_imports, meter_exports
    if separate:
        imports = builder.columns(n, upper=hard_in)
        exports = builder.columns(n, upper=hard_out)
        connection = builder.rows(n, lower=0.0, upper=0.0)
        builder.coefficients(connection, imports, 1.0)
        builder.coefficients(connection, exports, -1.0)
        builder.coefficients(connection, meter_imports, -1.0)
        builder.coefficients(connection, meter_exports, 1.0)
        builder.coefficients(
            connection[own_meter_terms.steps], own_meter_terms.cols, -own_meter_terms.coefficients
        )

    # What the site could draw or feed in at most: limits above it can never bind, so they
    # get no rows (most homes: a 17 kW connection against a 5 kW battery).
    most_in = device_consumption_kw + context.inflexible_consumption_kw
    most_out = device_production_kw + context.inflexible_production_kw
    soft_in_kw = consumption.soft_kw
    soft_out_kw = production.soft_kw
    if soften_hard_limits:
        soft_in_kw = np.fmin(soft_in_kw, consumption.hard_kw)
        soft_out_kw = np.fmin(soft_out_kw, production.hard_kw)
    soft_in_kw = np.where(most_in <= soft_in_kw, np.inf, soft_in_kw)
    soft_out_kw = np.where(most_out <= soft_out_kw, np.inf, soft_out_kw)
    soft_consumption = soft_upper_limit(
        builder, imports, soft_in_kw, consumption.breach_price_per_kw, dt
    )
    soft_production = soft_upper_limit(
        builder, exports, soft_out_kw, production.breach_price_per_kw, dt
    )
    community_consumption, community_production = (
        None if share is None
        # On the net flow: the shared connection sees the members' sum.
        else soft_upper_limit(
            builder, cols, share, COMMUNITY_BREACH_PRICE_PER_KW, dt, minus=other
        )
        for share, cols, other in (
            (context.community_consumption_kw, imports, exports),
            (context.community_production_kw, exports, imports),
        )
    )  # fmt: skip
    peak_consumption = peak_production = None
    if price_peaks:
        peak_consumption = peak_excess(
            builder, imports, context.site_peak_consumption_kw,
            context.site_peak_consumption_price_per_kw,
        )  # fmt: skip
        peak_production = peak_excess(
            builder, exports, context.site_peak_production_kw,
            context.site_peak_production_price_per_kw,
        )  # fmt: skip

    direction = np.empty(0, dtype=np.int64)
    if binary_steps.size:
        # Export credit above import price: forbid importing and exporting in the same step.
        max_in = np.fmin(hard_in, most_in)[binary_steps]
        max_out = np.fmin(hard_out, most_out)[binary_steps]
        direction = builder.columns(
            binary_steps.size, upper=1.0, integer=True, steps=binary_steps, decides="site/direction"
        )
        in_rows = builder.rows(binary_steps.size, upper=0.0)
        builder.coefficients(in_rows, meter_imports[binary_steps], 1.0)
        builder.coefficients(in_rows, direction, -max_in)
        out_rows = builder.rows(binary_steps.size, upper=max_out)
        builder.coefficients(out_rows, meter_exports[binary_steps], 1.0)
        builder.coefficients(out_rows, direction, max_out)

    return SiteBlock(
        imports=imports,
        exports=exports,
        meter_imports=meter_imports,
        meter_exports=meter_exports,
        balance=balance,
        soft_consumption=soft_consumption,
        soft_production=soft_production,
        community_consumption=community_consumption,
        community_production=community_production,
        peak_consumption=peak_consumption,
        peak_production=peak_production,
        binary_steps=binary_steps,
        direction=direction,
    )
