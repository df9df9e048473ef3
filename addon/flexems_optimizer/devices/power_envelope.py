"""The S2 PEBC block: a device's power per step, anywhere its allowed envelopes can move it
from its forecast (bounds per step), with its energy windows (deferred energy, energy
constraints) as rows. Linear: no binaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.model import ENERGY_BREACH_PRICE, PowerEnvelopeDevice
from ..problem.timegrid import FloatArray, TimeGrid
from ..solve.builder import IntArray, ModelBuilder, PowerTerms


@dataclass(frozen=True)
class PowerEnvelopeBlock:
    device: PowerEnvelopeDevice
    power: IntArray

    def power_terms(self) -> PowerTerms:
        steps = np.arange(self.power.size, dtype=np.int64)
        return PowerTerms(steps, self.power, np.ones(self.power.size))

    def envelope(self, power_kw: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The limits (kW) that make the device run at `power_kw`, within the ranges allowed:
        a lower limit raised to hold production back (or to take deferred energy), an upper
        limit lowered to hold consumption back, else the loosest limits allowed. Steps
        without power constraints: NaN."""
        device = self.device
        forecast = device.forecast_kw
        (lower_min, lower_max), (upper_min, upper_max) = (
            device.lower_limit_kw,
            device.upper_limit_kw,
        )
        lower, upper = lower_min.copy(), upper_max.copy()
        raised = power_kw > forecast + 1e-6
        lowered = power_kw < forecast - 1e-6
        lower[raised] = np.minimum(power_kw, lower_max)[raised]
        upper[lowered] = np.maximum(power_kw, upper_min)[lowered]
        controlled = np.array([c is not None for c in device.constraints])
        # A limit not offered: the envelope still needs a number that does not bind.
        lower = np.where(np.isinf(lower), np.minimum(power_kw, forecast), lower)
        upper = np.where(np.isinf(upper), np.maximum(power_kw, forecast), upper)
        return np.where(controlled, lower, np.nan), np.where(controlled, upper, np.nan)


def build_power_envelope(
    builder: ModelBuilder, device: PowerEnvelopeDevice, grid: TimeGrid
) -> PowerEnvelopeBlock:
    power = builder.columns(grid.n_steps, lower=device.lowest_kw, upper=device.highest_kw)
    for window in device.energy_windows:
        # min ≤ Σ share·P·Δt + short − over ≤ max: best effort, a miss has its price.
        inside = np.flatnonzero(window.share > 0)
        row = builder.rows(1, lower=window.min_kwh, upper=window.max_kwh)
        builder.coefficients(
            np.repeat(row, inside.size), power[inside], window.share[inside] * grid.step_hours
        )
        short, over = builder.columns(2, cost=ENERGY_BREACH_PRICE)
        builder.coefficients(np.repeat(row, 2), np.array([short, over]), np.array([1.0, -1.0]))
    return PowerEnvelopeBlock(device, power)
