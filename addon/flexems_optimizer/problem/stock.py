"""Fields of a stock (storage, heat buffer in kWh): SoC bounds, targets, gains and losses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import fields
from .errors import ProblemError, join_path
from .model import SocTarget
from .quantities import Dimension
from .reader import Reader
from .timegrid import FloatArray


@dataclass(frozen=True)
class Stock:
    soc_at_start_kwh: float
    soc_min_kwh: float
    soc_max_kwh: float
    soc_minima_kwh: FloatArray
    soc_maxima_kwh: FloatArray
    targets: tuple[SocTarget, ...]
    net_gain_kw: FloatArray
    storage_efficiency_per_step: float


def parse_stock(
    entry: Mapping[str, Any], name: str, path: str, reader: Reader, notes: list[str], what: str
) -> Stock:
    """The soc-* keys, soc-gain/usage and storage-efficiency of a flex-model entry."""
    grid = reader.grid
    soc_unit = entry.get("soc-unit", "kWh")
    if soc_unit not in ("kWh", "MWh"):
        raise ProblemError(
            "invalid_unit", "soc-unit must be 'kWh' or 'MWh'", join_path(path, "soc-unit")
        )
    soc_factor = 1000.0 if soc_unit == "MWh" else 1.0

    def energy(raw: object, key_path: str) -> float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = float(raw) * soc_factor
        return reader.quantity(raw, Dimension.ENERGY, key_path)

    def required_energy(key: str) -> float:
        if entry.get(key) is None:
            raise ProblemError("missing_field", f"{what} needs {key!r}", join_path(path, key))
        return energy(entry[key], join_path(path, key))

    soc_at_start = required_energy("soc-at-start")
    soc_min = energy(entry["soc-min"], join_path(path, "soc-min")) if "soc-min" in entry else 0.0
    soc_max = required_energy("soc-max")
    if soc_min > soc_max:
        raise ProblemError(
            "inconsistent_bounds",
            f"soc-min {soc_min:g} kWh is above soc-max {soc_max:g} kWh",
            join_path(path, "soc-min"),
        )
    if soc_min < 0:
        raise ProblemError(
            "negative_value", "soc-min must not be negative", join_path(path, "soc-min")
        )
    minima = fields.soc_profile(entry, "soc-minima", path, reader, energy, notes, name)
    maxima = fields.soc_profile(entry, "soc-maxima", path, reader, energy, notes, name)
    targets = fields.soc_targets(entry, path, reader, energy, notes, name)
    for target in targets:
        target_path = join_path(join_path(path, "soc-targets"), target.source_index)
        fields.within(target.value_kwh, soc_min, soc_max, "soc-target", target_path)
    for key, profile in (("soc-minima", minima), ("soc-maxima", maxima)):
        fields.check_profile(profile, soc_min, soc_max, key, join_path(path, key), grid)
    fields.require_ordered(minima, maxima, "soc-minima", "soc-maxima", path, grid)
    gain = fields.flow_series(entry, "soc-gain", path, reader)
    usage = fields.flow_series(entry, "soc-usage", path, reader)
    return Stock(
        soc_at_start_kwh=soc_at_start,
        soc_min_kwh=soc_min,
        soc_max_kwh=soc_max,
        soc_minima_kwh=minima,
        soc_maxima_kwh=maxima,
        targets=tuple(targets),
        net_gain_kw=gain - usage,
        storage_efficiency_per_step=fields.storage_efficiency(entry, path, reader),
    )


def own_price(entry: Mapping[str, Any], path: str, reader: Reader) -> FloatArray | None:
    """A device's own tariff (`consumption-price` in its flex-model entry), if it has one."""
    if entry.get("consumption-price") is None:
        return None
    return reader.series(
        entry["consumption-price"], Dimension.ENERGY_PRICE, join_path(path, "consumption-price")
    )
