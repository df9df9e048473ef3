"""Heat sinks (hot-water buffers, boilers, buildings) and the heat pumps that feed them.

A `heat-storage` is a Storage with no grid power of its own, in one of two forms:
- heat content (kWh): the storage keys (`soc-at-start`, `soc-min`, `soc-max`, `soc-targets`,
  `soc-usage` for tapping, `storage-efficiency` for standing losses);
- temperature (°C), when `heat-capacity` (kWh/K) is given: C·dT/dt = Q + gains − usage −
  UA·(T − T_ambient), with `heat-loss` UA (kW/K) or `thermal-resistance` R = 1/UA (K/kW),
  `ambient-temperature`, `heat-usage`, `heat-gains` (e.g. solar), `temperature-min`/`-max`
  (physical, hard), `temperature-targets`, and a comfort band `comfort-min`/`comfort-max`
  (soft, `comfort-breach-price` per K per hour, default 1 EUR). `model: "building"` or
  `"buffer"` only names which it is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import fields
from .errors import ProblemError, join_path
from .model import Device, HeatPump, Storage
from .quantities import Dimension
from .reader import Reader
from .run_rules import RUN_KEYS, parse_run_rules
from .stock import own_price, parse_stock
from .timegrid import FloatArray

DEFAULT_COMFORT_BREACH_PRICE = 1.0  # currency per K per hour outside the comfort band
DEFAULT_CARNOT_FRACTION = 0.45
DEFAULT_MAX_COP = 8.0

_COMMON = {"name", "type", "model"}
_ENERGY_KEYS = _COMMON | {
    "soc-at-start", "soc-unit", "soc-min", "soc-max", "soc-minima", "soc-maxima",
    "soc-targets", "soc-gain", "soc-usage", "storage-efficiency",
    "storage-efficiency-resolution",
}  # fmt: skip
_TEMPERATURE_KEYS = _COMMON | {
    "heat-capacity", "temperature-at-start", "temperature-min", "temperature-max",
    "temperature-targets", "comfort-min", "comfort-max", "comfort-breach-price",
    "ambient-temperature", "heat-loss", "thermal-resistance", "heat-usage", "heat-gains",
}  # fmt: skip
_HEAT_PUMP_KEYS = {
    "name", "type", "heats", "power-capacity", "min-power", "on-off", "cop", "cop-model",
    "prefer-running-sooner", "consumption-price", *RUN_KEYS,
}  # fmt: skip
_COP_MODEL_KEYS = {"outdoor-temperature", "supply-temperature", "carnot-fraction", "max-cop"}


def parse_heat_storage(
    entry: Mapping[str, Any], name: str, path: str, reader: Reader, notes: list[str]
) -> Storage:
    model = entry.get("model", "buffer")
    if model not in ("buffer", "building"):
        raise ProblemError(
            "invalid_value", "model must be 'buffer' or 'building'", join_path(path, "model")
        )
    if "heat-capacity" in entry:
        return _temperature_sink(entry, name, path, reader, notes)
    if model == "building":
        raise ProblemError(
            "missing_field",
            "a building needs 'heat-capacity' (kWh/K) for its thermal model",
            join_path(path, "heat-capacity"),
        )
    fields.reject_unknown(entry, _ENERGY_KEYS, path)
    stock = parse_stock(entry, name, path, reader, notes, "a heat storage")
    zeros = np.zeros(reader.grid.n_steps)
    nothing = np.full(reader.grid.n_steps, np.nan)
    return Storage(
        name=name, path=path,
        soc_at_start_kwh=stock.soc_at_start_kwh, soc_min_kwh=stock.soc_min_kwh,
        soc_max_kwh=stock.soc_max_kwh, soc_minima_kwh=stock.soc_minima_kwh,
        soc_maxima_kwh=stock.soc_maxima_kwh, targets=stock.targets,
        net_gain_kw=stock.net_gain_kw, charging_efficiency=1.0, discharging_efficiency=1.0,
        storage_efficiency_per_step=stock.storage_efficiency_per_step,
        consumption_capacity_kw=zeros, production_capacity_kw=zeros,
        soft_consumption_capacity_kw=nothing, soft_production_capacity_kw=nothing,
        prefer_charging_sooner=False, is_heat_sink=True,
    )  # fmt: skip


def _temperature_sink(
    entry: Mapping[str, Any], name: str, path: str, reader: Reader, notes: list[str]
) -> Storage:
    fields.reject_unknown(entry, _TEMPERATURE_KEYS, path)
    n = reader.grid.n_steps
    dt = reader.grid.step_hours

    def temperature(raw: object, key_path: str) -> float:
        return reader.quantity(raw, Dimension.TEMPERATURE, key_path)

    capacity = reader.quantity(
        entry["heat-capacity"], Dimension.HEAT_CAPACITY, join_path(path, "heat-capacity")
    )
    if capacity <= 0:
        raise ProblemError(
            "out_of_range", "heat-capacity must be positive", join_path(path, "heat-capacity")
        )
    if "heat-loss" in entry and "thermal-resistance" in entry:
        raise ProblemError(
            "conflicting_fields",
            "give heat-loss (kW/K) or thermal-resistance (K/kW), not both",
            join_path(path, "heat-loss"),
        )
    loss = 0.0
    if "heat-loss" in entry:
        loss = reader.quantity(
            entry["heat-loss"], Dimension.CONDUCTANCE, join_path(path, "heat-loss")
        )
    elif "thermal-resistance" in entry:
        resistance = _resistance(
            entry["thermal-resistance"], join_path(path, "thermal-resistance"), reader
        )
        loss = 1.0 / resistance
    if loss < 0:
        raise ProblemError(
            "negative_value", "heat-loss must not be negative", join_path(path, "heat-loss")
        )
    if "temperature-at-start" not in entry:
        raise ProblemError(
            "missing_field", "a heat storage needs 'temperature-at-start'",
            join_path(path, "temperature-at-start"),
        )  # fmt: skip
    start = temperature(entry["temperature-at-start"], join_path(path, "temperature-at-start"))
    low = (
        temperature(entry["temperature-min"], join_path(path, "temperature-min"))
        if "temperature-min" in entry
        else -math.inf
    )
    high = (
        temperature(entry["temperature-max"], join_path(path, "temperature-max"))
        if "temperature-max" in entry
        else math.inf
    )
    if low > high:
        raise ProblemError(
            "inconsistent_bounds", "temperature-min is above temperature-max",
            join_path(path, "temperature-min"),
        )  # fmt: skip
    ambient = np.zeros(n)
    if "ambient-temperature" in entry:
        ambient = reader.series(
            entry["ambient-temperature"],
            Dimension.TEMPERATURE,
            join_path(path, "ambient-temperature"),
        )
    elif loss > 0:
        raise ProblemError(
            "missing_field", "heat losses need an 'ambient-temperature' (°C, e.g. outdoors)",
            join_path(path, "ambient-temperature"),
        )  # fmt: skip
    gains = fields.flow_series(entry, "heat-gains", path, reader)
    usage = fields.flow_series(entry, "heat-usage", path, reader)
    comfort_low = _optional_temperatures(entry, "comfort-min", path, reader)
    comfort_high = _optional_temperatures(entry, "comfort-max", path, reader)
    fields.require_ordered(
        comfort_low, comfort_high, "comfort-min", "comfort-max", path, reader.grid
    )
    targets = fields.soc_targets(
        entry, path, reader, temperature, notes, name, key="temperature-targets"
    )
    for target in targets:
        fields.within(
            target.value_kwh, low, high, "temperature target",
            join_path(join_path(path, "temperature-targets"), target.source_index),
        )  # fmt: skip
    price = reader.optional_quantity(entry, "comfort-breach-price", Dimension.ENERGY_PRICE, path)
    per_state_price = (DEFAULT_COMFORT_BREACH_PRICE if price is None else price) * dt
    retention = math.exp(-loss * dt / capacity)
    zeros = np.zeros(n)
    nothing = np.full(n, np.nan)
    # Comfort applies to the temperature during a step; we hold it at the step's end.
    return Storage(
        name=name, path=path, soc_at_start_kwh=start, soc_min_kwh=low, soc_max_kwh=high,
        soc_minima_kwh=comfort_low, soc_maxima_kwh=comfort_high, targets=tuple(targets),
        net_gain_kw=(gains - usage + loss * ambient) / capacity,
        charging_efficiency=1.0, discharging_efficiency=1.0,
        storage_efficiency_per_step=retention,
        consumption_capacity_kw=zeros, production_capacity_kw=zeros,
        soft_consumption_capacity_kw=nothing, soft_production_capacity_kw=nothing,
        prefer_charging_sooner=False, is_heat_sink=True, state_unit="K",
        heat_input_per_kw=1.0 / capacity,
        lower_breach_price=per_state_price, upper_breach_price=per_state_price,
    )  # fmt: skip


def _resistance(raw: object, path: str, reader: Reader) -> float:
    """Thermal resistance R in K/kW (also 'K/W')."""
    if isinstance(raw, str) and raw.strip().endswith("K/W"):
        value = float(raw.strip().removesuffix("K/W")) * 1000.0
    elif isinstance(raw, str) and raw.strip().endswith("K/kW"):
        value = float(raw.strip().removesuffix("K/kW"))
    else:
        value = reader.quantity(raw, Dimension.RATIO, path)
    if value <= 0:
        raise ProblemError("out_of_range", "thermal-resistance must be positive", path)
    return value


def _optional_temperatures(
    entry: Mapping[str, Any], key: str, path: str, reader: Reader
) -> FloatArray:
    if entry.get(key) is None:
        return np.full(reader.grid.n_steps, np.nan)
    return reader.series(entry[key], Dimension.TEMPERATURE, join_path(path, key), required=False)


def parse_heat_pump(entry: Mapping[str, Any], name: str, path: str, reader: Reader) -> HeatPump:
    fields.reject_unknown(entry, _HEAT_PUMP_KEYS, path)
    heats = entry.get("heats")
    if not isinstance(heats, str) or not heats:
        raise ProblemError(
            "missing_field", "a heat pump needs 'heats': the name of its heat-storage",
            join_path(path, "heats"),
        )  # fmt: skip
    capacity = fields.series_or_inf(reader, entry, "power-capacity", Dimension.POWER, path)
    if not np.isfinite(capacity).all():
        raise ProblemError(
            "missing_field", "a heat pump needs a 'power-capacity' (electrical, kW)",
            join_path(path, "power-capacity"),
        )  # fmt: skip
    minimum = fields.on_off_minimum(entry, path, reader, float(capacity.max()))
    rules = parse_run_rules(entry, path, reader, on_off=bool(minimum))
    return HeatPump(
        name=name, path=path, heats=heats, power_capacity_kw=capacity,
        min_power_kw=minimum, cop=_cop(entry, path, reader),
        prefer_running_sooner=fields.boolean(entry, "prefer-running-sooner", False, path),
        own_price=own_price(entry, path, reader), run_rules=rules,
    )  # fmt: skip


def _cop(entry: Mapping[str, Any], path: str, reader: Reader) -> FloatArray:
    """COP per step: given, or a fraction of the Carnot COP between outdoor and supply."""
    if ("cop" in entry) == ("cop-model" in entry):
        raise ProblemError(
            "missing_field", "a heat pump needs either 'cop' or 'cop-model'", join_path(path, "cop")
        )
    if "cop" in entry:
        cop = reader.series(entry["cop"], Dimension.RATIO, join_path(path, "cop"))
    else:
        model_path = join_path(path, "cop-model")
        model = fields.mapping(entry["cop-model"], model_path)
        fields.reject_unknown(model, _COP_MODEL_KEYS, model_path)
        for key in ("outdoor-temperature", "supply-temperature"):
            if key not in model:
                raise ProblemError(
                    "missing_field", f"the COP model needs {key!r}", join_path(model_path, key)
                )
        outdoor = (
            reader.series(
                model["outdoor-temperature"],
                Dimension.TEMPERATURE,
                join_path(model_path, "outdoor-temperature"),
            )
            + 273.15
        )
        supply = (
            reader.series(
                model["supply-temperature"],
                Dimension.TEMPERATURE,
                join_path(model_path, "supply-temperature"),
            )
            + 273.15
        )
        fraction = reader.optional_quantity(
            model, "carnot-fraction", Dimension.FRACTION, model_path
        )
        ceiling = reader.optional_quantity(model, "max-cop", Dimension.RATIO, model_path)
        fraction = DEFAULT_CARNOT_FRACTION if fraction is None else fraction
        ceiling = DEFAULT_MAX_COP if ceiling is None else ceiling
        lift = supply - outdoor
        with np.errstate(divide="ignore", invalid="ignore"):
            carnot = np.where(lift > 0, supply / lift, np.inf)
        cop = np.clip(fraction * carnot, 1.0, ceiling)
    bad = np.flatnonzero(cop <= 0)
    if bad.size:
        raise ProblemError("out_of_range", "the COP must be positive", join_path(path, "cop"))
    return cop


def check_heat_links(devices: Sequence[Device]) -> None:
    """Every heat pump heats an existing heat-storage."""
    sinks = {d.name for d in devices if isinstance(d, Storage) and d.is_heat_sink}
    for device in devices:
        if isinstance(device, HeatPump) and device.heats not in sinks:
            known = ", ".join(sorted(sinks)) or "none"
            raise ProblemError(
                "unknown_heat_sink",
                f"heats {device.heats!r}, which is not a heat-storage in this problem "
                f"(heat-storages: {known})",
                join_path(device.path, "heats"),
            )
