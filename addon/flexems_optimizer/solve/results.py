"""Read a solution back onto the grid: device power and stock, site import and export."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problem.timegrid import FloatArray
from .builder import IntArray
from .compile import CompiledProblem

# Below this a power (kW) or stock (kWh) is solver noise.
NOISE = 1e-7


@dataclass(frozen=True)
class DeviceResult:
    name: str
    charge_kw: FloatArray
    discharge_kw: FloatArray
    soc_kwh: FloatArray

    @property
    def power_kw(self) -> FloatArray:
        return self.charge_kw - self.discharge_kw


@dataclass(frozen=True)
class SiteResult:
    devices: tuple[DeviceResult, ...]
    import_kw: FloatArray
    export_kw: FloatArray

    @property
    def net_kw(self) -> FloatArray:
        return self.import_kw - self.export_kw


def read_solution(compiled: CompiledProblem, x: FloatArray) -> SiteResult:
    """Slices of the solution vector, cleaned of noise.

    Charging and discharging at once in a lossless device (or importing and exporting at once)
    changes nothing physical, so both are netted; lossy devices never do it in a final plan.
    """
    devices = []
    for block in compiled.devices:
        charge = _clean(x[block.charge])
        discharge = _clean(x[block.discharge])
        if block.storage.is_lossless:
            both = np.minimum(charge, discharge)
            charge, discharge = charge - both, discharge - both
        devices.append(DeviceResult(block.storage.name, charge, discharge, x[block.soc].copy()))
    imports = _clean(x[compiled.site.imports])
    exports = _clean(x[compiled.site.exports])
    both = np.minimum(imports, exports)
    return SiteResult(tuple(devices), imports - both, exports - both)


def simultaneous_steps(result: SiteResult) -> dict[str, IntArray]:
    """Per lossy device, the steps where it charges and discharges at once (burning energy)."""
    found: dict[str, IntArray] = {}
    for device in result.devices:
        steps = np.flatnonzero(np.minimum(device.charge_kw, device.discharge_kw) > 1e-6)
        if steps.size:
            found[device.name] = steps.astype(np.int64)
    return found


def _clean(values: FloatArray) -> FloatArray:
    cleaned: FloatArray = np.maximum(np.where(np.abs(values) < NOISE, 0.0, values), 0.0)
    return cleaned
