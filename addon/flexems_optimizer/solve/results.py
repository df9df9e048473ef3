"""Read a solution back onto the grid: each device's power and state, the site's flows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..devices.fill_rate import FillRateBlock
from ..devices.power_envelope import PowerEnvelopeBlock
from ..problem.model import ProcessPolicy
from ..problem.timegrid import FloatArray
from .builder import IntArray
from .compile import CompiledProblem

# Below this a power (kW) or stock (kWh) is solver noise.
NOISE = 1e-7


@dataclass(frozen=True)
class DeviceResult:
    """A device's plan. `power_kw` is electrical (consumption positive; zero for heat sinks)."""

    name: str
    kind: str  # storage | heat-storage | heat-pump | process | s2-frbc
    power_kw: FloatArray
    charge_kw: FloatArray | None = None
    discharge_kw: FloatArray | None = None
    state: FloatArray | None = None  # stock (kWh) or temperature (°C) at the end of each step
    state_unit: str = "kWh"
    series: dict[str, FloatArray] = field(default_factory=dict)  # heat_kw, cop
    facts: dict[str, Any] = field(default_factory=dict)  # a process's start or steps


@dataclass(frozen=True)
class SiteResult:
    devices: tuple[DeviceResult, ...]
    import_kw: FloatArray  # at the grid connection
    export_kw: FloatArray

    @property
    def net_kw(self) -> FloatArray:
        return self.import_kw - self.export_kw

    def device(self, name: str) -> DeviceResult:
        return next(d for d in self.devices if d.name == name)


def read_solution(compiled: CompiledProblem, x: FloatArray) -> SiteResult:
    """Slices of the solution vector, cleaned of noise.

    Charging and discharging at once in a lossless device (or importing and exporting at once)
    changes nothing physical, so both are netted; lossy devices never do it in a final plan.
    """
    n = compiled.site.imports.size
    heat_into: dict[str, FloatArray] = {}
    devices: list[DeviceResult] = []
    for pump in compiled.heat_pumps:
        power = _clean(x[pump.power])
        heat = pump.heat_pump.cop * power
        heat_into[pump.heat_pump.heats] = heat_into.get(pump.heat_pump.heats, 0.0) + heat
        devices.append(
            DeviceResult(
                pump.heat_pump.name, "heat-pump", power,
                series={"heat_kw": heat, "cop": pump.heat_pump.cop},
            )
        )  # fmt: skip
    stores: list[DeviceResult] = [_fill_rate_result(block, x) for block in compiled.fill_rate]
    stores += [_envelope_result(block, x) for block in compiled.power_envelopes]
    buffers = {block.device.name for block in compiled.fill_rate}
    for block in compiled.devices:
        storage = block.storage
        if storage.name in buffers:
            continue  # reported with its FRBC device
        state = x[block.soc].copy()
        if storage.is_heat_sink:
            stores.append(
                DeviceResult(
                    storage.name, "heat-storage", np.zeros(n), state=state,
                    state_unit=storage.state_unit,
                    series={"heat_kw": heat_into.get(storage.name, np.zeros(n))},
                )
            )  # fmt: skip
            continue
        charge = _clean(x[block.charge])
        discharge = _clean(x[block.discharge])
        if storage.is_lossless:
            both = np.minimum(charge, discharge)
            charge, discharge = charge - both, discharge - both
        stores.append(
            DeviceResult(storage.name, "storage", charge - discharge, charge, discharge, state)
        )
    for process_block in compiled.processes:
        process = process_block.process
        chosen = x[process_block.choices] > 0.5
        power = _clean(process_block.terms.per_step(x, n))
        steps = process_block.choice_steps[chosen]
        facts: dict[str, Any] = {"policy": process.policy.value}
        if process.policy is ProcessPolicy.BREAKABLE:
            facts["steps"] = steps.tolist()
        else:
            facts["start_step"] = int(steps[0])
        devices.append(DeviceResult(process.name, "process", power, facts=facts))
    imports = _clean(x[compiled.site.imports])
    exports = _clean(x[compiled.site.exports])
    both = np.minimum(imports, exports)
    ordered = {d.name: d for d in (*stores, *devices)}
    names = [block.name for block in compiled.problem_devices]
    return SiteResult(tuple(ordered[name] for name in names), imports - both, exports - both)


def _fill_rate_result(block: FillRateBlock, x: FloatArray) -> DeviceResult:
    """An S2 FRBC device: its electric power, fill level, and per actuator the operation
    mode and factor of each step (the factor as S2 means it: 0 to 1 within the element)."""
    n = block.buffer.soc.size
    actuators: dict[str, dict[str, list[Any]]] = {}
    for actuator in block.actuators:
        on = np.stack([x[choice.on] for choice in actuator.choices], axis=1)
        chosen = np.argmax(on, axis=1)
        modes, factors = [], []
        for step, index in enumerate(chosen.tolist()):
            choice = actuator.choices[index]
            modes.append(choice.mode)
            share = float(x[choice.factor[step]]) if choice.factor.size else 0.0
            factors.append(round(min(max(share, 0.0), 1.0), 6))
        actuators[actuator.actuator.id] = {"operation_mode": modes, "factor": factors}
    return DeviceResult(
        block.device.name, "s2-frbc", _signed(block.power_terms().per_step(x, n)),
        state=x[block.buffer.soc].copy(), state_unit="fill level",
        facts={"actuators": actuators, "fill_level_label": block.device.fill_level_label},
    )  # fmt: skip


def _envelope_result(block: PowerEnvelopeBlock, x: FloatArray) -> DeviceResult:
    """An S2 PEBC device: its power, its forecast, and the envelope that holds it there."""
    power = _signed(x[block.power])
    lower, upper = block.envelope(power)
    device = block.device
    return DeviceResult(
        device.name, "s2-pebc", power, series={"forecast_kw": device.forecast_kw},
        facts={"envelope": {"lower_kw": _or_none(lower), "upper_kw": _or_none(upper)},
               "constraints": list(device.constraints),
               "commodity_quantities": list(device.commodity_quantities)},
    )  # fmt: skip


def _or_none(values: FloatArray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 6) for v in values]


def simultaneous_steps(result: SiteResult) -> dict[str, IntArray]:
    """Per lossy storage, the steps where it charges and discharges at once (burning energy)."""
    found: dict[str, IntArray] = {}
    for device in result.devices:
        if device.charge_kw is None or device.discharge_kw is None:
            continue
        steps = np.flatnonzero(np.minimum(device.charge_kw, device.discharge_kw) > 1e-6)
        if steps.size:
            found[device.name] = steps.astype(np.int64)
    return found


def _signed(values: FloatArray) -> FloatArray:
    """Solver noise removed from a power that may be either sign."""
    cleaned: FloatArray = np.where(np.abs(values) < NOISE, 0.0, values)
    return cleaned


def _clean(values: FloatArray) -> FloatArray:
    cleaned: FloatArray = np.maximum(np.where(np.abs(values) < NOISE, 0.0, values), 0.0)
    return cleaned
