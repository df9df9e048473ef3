"""Parse and validate a site problem (PROBLEM-FORMAT.md) into typed, grid-aligned arrays."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .errors import ProblemError, join_path
from .model import (
    DEFAULT_CAPACITY_BREACH_PRICE_PER_KW,
    DEFAULT_SOC_BREACH_PRICE_PER_KWH,
    FlexContext,
    Objective,
    SiteLimit,
    SiteProblem,
    SocTarget,
    Storage,
)
from .quantities import Dimension
from .reader import Reader
from .timegrid import FloatArray, TimeGrid
from .timing import iso_utc, parse_datetime, parse_duration

MAX_STEPS = 50_000  # a year at 15 minutes fits; a year at 1 minute is refused as absurd

_TOP_KEYS = {"start", "end", "duration", "resolution", "objective", "flex-context", "flex-model"}
_CONTEXT_KEYS = {
    "consumption-price", "production-price", "co2-intensity",
    "site-power-capacity", "site-consumption-capacity", "site-production-capacity",
    "site-consumption-breach-price", "site-production-breach-price",
    "site-peak-consumption", "site-peak-consumption-price",
    "site-peak-production", "site-peak-production-price",
    "inflexible-consumption", "inflexible-production",
    "relax-constraints", "soc-minima-breach-price", "soc-maxima-breach-price",
    "consumption-breach-price", "production-breach-price",
}  # fmt: skip
_STORAGE_KEYS = {
    "name", "type", "soc-at-start", "soc-unit", "soc-min", "soc-max", "soc-minima",
    "soc-maxima", "soc-targets", "soc-gain", "soc-usage", "charging-efficiency",
    "discharging-efficiency", "roundtrip-efficiency", "storage-efficiency",
    "storage-efficiency-resolution", "power-capacity", "consumption-capacity",
    "production-capacity", "prefer-charging-sooner", "availability",
}  # fmt: skip
DEVICE_TYPES = ("storage",)


def parse_problem(raw: object) -> SiteProblem:
    """Validate a site problem; raises `ProblemError` naming the first invalid field."""
    problem = _mapping(raw, "")
    _reject_unknown(problem, _TOP_KEYS, "")
    grid = _parse_grid(problem)
    reader = Reader(grid)
    notes: list[str] = []
    objective = _parse_objective(problem.get("objective", "cost"))
    context_raw = _mapping(problem.get("flex-context", {}), "flex-context")
    context = _parse_flex_context(context_raw, reader, objective)
    devices = _parse_flex_model(problem.get("flex-model", []), reader, context, notes)
    return SiteProblem(
        grid=grid,
        objective=objective,
        currency=reader.currency or "EUR",
        flex_context=context,
        devices=tuple(devices),
        notes=tuple(notes),
    )


def _mapping(raw: object, path: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise ProblemError("invalid_type", f"expected an object, got {type(raw).__name__}", path)
    return raw


def _reject_unknown(mapping: Mapping[str, Any], known: set[str], path: str) -> None:
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ProblemError(
                "unknown_field", f"unknown field {key!r}{hint}", join_path(path, key)
            )


def _parse_grid(problem: Mapping[str, Any]) -> TimeGrid:
    if "start" not in problem:
        raise ProblemError("missing_field", "the problem needs a 'start'", "start")
    start = parse_datetime(problem["start"], "start")
    step = parse_duration(problem.get("resolution", "PT15M"), "resolution")
    step_s = step.total_seconds()
    if "end" in problem and "duration" in problem:
        raise ProblemError("conflicting_fields", "give either 'end' or 'duration', not both", "end")
    if "end" in problem:
        end_s = parse_datetime(problem["end"], "end").timestamp()
        end_path = "end"
    elif "duration" in problem:
        end_s = start.timestamp() + parse_duration(problem["duration"], "duration").total_seconds()
        end_path = "duration"
    else:
        raise ProblemError("missing_field", "the problem needs an 'end' or a 'duration'", "end")
    span_s = end_s - start.timestamp()
    if span_s <= 0:
        raise ProblemError("invalid_horizon", "the end must be after the start", end_path)
    n_steps = round(span_s / step_s)
    if abs(n_steps * step_s - span_s) > 1e-6:
        raise ProblemError(
            "invalid_horizon",
            f"the horizon ({span_s / 3600:g} h) is not a whole number of "
            f"{problem.get('resolution', 'PT15M')} steps",
            end_path,
        )
    if n_steps > MAX_STEPS:
        raise ProblemError(
            "horizon_too_long",
            f"{n_steps} steps is more than the {MAX_STEPS} a plan may have; "
            "use a coarser resolution or a shorter horizon",
            end_path,
        )
    offset = start.utcoffset()
    assert offset is not None  # parse_datetime refuses naive datetimes
    local_seconds = (start.timestamp() + offset.total_seconds()) % 86400
    if 86400 % step_s == 0 and local_seconds % step_s > 1e-6:
        raise ProblemError(
            "misaligned_start",
            f"the start is not aligned to the {problem.get('resolution', 'PT15M')} resolution",
            "start",
        )
    return TimeGrid(start=start, step=step, n_steps=n_steps)


def _parse_objective(raw: object) -> Objective:
    try:
        return Objective(str(raw))
    except ValueError:
        choices = ", ".join(repr(o.value) for o in Objective)
        raise ProblemError(
            "invalid_objective", f"objective {raw!r} is not one of {choices}", "objective"
        ) from None


def _boolean(mapping: Mapping[str, Any], key: str, default: bool, path: str) -> bool:
    value = mapping.get(key, default)
    if not isinstance(value, bool):
        raise ProblemError("invalid_type", "expected true or false", join_path(path, key))
    return value


def _non_negative(values: FloatArray, path: str, what: str) -> FloatArray:
    negative = np.flatnonzero(values < 0)
    if negative.size:
        raise ProblemError("negative_value", f"{what} must not be negative", path)
    return values


def _series_or_inf(
    reader: Reader, mapping: Mapping[str, Any], key: str, dimension: Dimension, path: str
) -> FloatArray:
    """An optional limit series: inf where not given."""
    if mapping.get(key) is None:
        return np.full(reader.grid.n_steps, np.inf)
    values = reader.series(mapping[key], dimension, join_path(path, key), required=False)
    _non_negative(np.nan_to_num(values), join_path(path, key), key)
    return np.where(np.isnan(values), np.inf, values)


def _summed_flows(reader: Reader, raw: object, path: str) -> FloatArray:
    """`inflexible-consumption`/`-production`: one series or a list of series, summed (kW ≥ 0)."""
    total = np.zeros(reader.grid.n_steps)
    if raw is None:
        return total
    is_event_list = isinstance(raw, list) and all(
        isinstance(item, Mapping) and "value" in item for item in raw
    )
    series_list = raw if isinstance(raw, list) and not is_event_list else [raw]
    for i, item in enumerate(series_list):
        item_path = join_path(path, i) if series_list is raw else path
        values = reader.series(item, Dimension.POWER, item_path, energy_per_interval=True)
        total += _non_negative(values, item_path, "inflexible power (kW, always ≥ 0)")
    return total


def _parse_flex_context(
    context: Mapping[str, Any], reader: Reader, objective: Objective
) -> FlexContext:
    path = "flex-context"
    _reject_unknown(context, _CONTEXT_KEYS, path)
    n = reader.grid.n_steps
    if "consumption-price" in context:
        consumption_price = reader.series(
            context["consumption-price"],
            Dimension.ENERGY_PRICE,
            join_path(path, "consumption-price"),
        )
    elif objective is Objective.COST:
        raise ProblemError(
            "missing_field",
            "a cost objective needs a 'consumption-price'",
            join_path(path, "consumption-price"),
        )
    else:
        consumption_price = np.zeros(n)
    if "production-price" in context:
        production_price = reader.series(
            context["production-price"], Dimension.ENERGY_PRICE, join_path(path, "production-price")
        )
    else:
        production_price = consumption_price.copy()
    co2 = None
    if "co2-intensity" in context:
        co2 = reader.series(
            context["co2-intensity"], Dimension.CO2_INTENSITY, join_path(path, "co2-intensity")
        )
    elif objective is Objective.CO2:
        raise ProblemError(
            "missing_field",
            "a co2 objective needs a 'co2-intensity'",
            join_path(path, "co2-intensity"),
        )
    relax = _boolean(context, "relax-constraints", True, path)

    def price(key: str, dimension: Dimension) -> float | None:
        value = reader.optional_quantity(context, key, dimension, path)
        if value is not None and value < 0:
            raise ProblemError(
                "negative_value", "a breach price must not be negative", join_path(path, key)
            )
        return value

    def site_limit(side: str) -> SiteLimit:
        power = _series_or_inf(reader, context, "site-power-capacity", Dimension.POWER, path)
        contract = _series_or_inf(reader, context, f"site-{side}-capacity", Dimension.POWER, path)
        breach_price = price(f"site-{side}-breach-price", Dimension.POWER_PRICE)
        contract_soft = relax or breach_price is not None
        hard_parts = {"site-power-capacity": power if not relax else np.full(n, np.inf)}
        soft_parts = {"site-power-capacity": power if relax else np.full(n, np.inf)}
        (soft_parts if contract_soft else hard_parts)[f"site-{side}-capacity"] = contract
        hard_kw, hard_source = _tightest(hard_parts, n)
        soft_kw, soft_source = _tightest(soft_parts, n)
        return SiteLimit(
            hard_kw=hard_kw,
            hard_source=hard_source,
            soft_kw=soft_kw,
            soft_source=soft_source,
            breach_price_per_kw=breach_price
            if breach_price is not None
            else DEFAULT_CAPACITY_BREACH_PRICE_PER_KW,
        )

    def peak(key: str) -> tuple[float, float]:
        already = reader.optional_quantity(context, key, Dimension.POWER, path) or 0.0
        peak_price = price(f"{key}-price", Dimension.POWER_PRICE) or 0.0
        if already < 0:
            raise ProblemError(
                "negative_value", "a peak must not be negative", join_path(path, key)
            )
        return already, peak_price

    peak_consumption, peak_consumption_price = peak("site-peak-consumption")
    peak_production, peak_production_price = peak("site-peak-production")
    soc_minima_price = price("soc-minima-breach-price", Dimension.ENERGY_PRICE)
    soc_maxima_price = price("soc-maxima-breach-price", Dimension.ENERGY_PRICE)
    if relax:
        soc_minima_price = (
            soc_minima_price if soc_minima_price is not None else DEFAULT_SOC_BREACH_PRICE_PER_KWH
        )
        soc_maxima_price = (
            soc_maxima_price if soc_maxima_price is not None else DEFAULT_SOC_BREACH_PRICE_PER_KWH
        )
    return FlexContext(
        consumption_price=consumption_price,
        production_price=production_price,
        co2_intensity_kg_per_kwh=co2,
        site_consumption=site_limit("consumption"),
        site_production=site_limit("production"),
        site_peak_consumption_kw=peak_consumption,
        site_peak_consumption_price_per_kw=peak_consumption_price,
        site_peak_production_kw=peak_production,
        site_peak_production_price_per_kw=peak_production_price,
        inflexible_consumption_kw=_summed_flows(
            reader, context.get("inflexible-consumption"), join_path(path, "inflexible-consumption")
        ),
        inflexible_production_kw=_summed_flows(
            reader, context.get("inflexible-production"), join_path(path, "inflexible-production")
        ),
        soc_minima_breach_price_per_kwh=soc_minima_price,
        soc_maxima_breach_price_per_kwh=soc_maxima_price,
        device_consumption_breach_price_per_kw=price(
            "consumption-breach-price", Dimension.POWER_PRICE
        ),
        device_production_breach_price_per_kw=price(
            "production-breach-price", Dimension.POWER_PRICE
        ),
        relax_constraints=relax,
    )


def _tightest(parts: Mapping[str, FloatArray], n: int) -> tuple[FloatArray, tuple[str, ...]]:
    """Per step, the smallest of several limits and the name of the one that sets it."""
    names = list(parts)
    stacked = np.vstack([parts[name] for name in names]) if names else np.full((1, n), np.inf)
    which = np.argmin(stacked, axis=0)
    limit = stacked[which, np.arange(n)]
    return limit, tuple(names[i] if names else "" for i in which)


def _parse_flex_model(
    raw: object, reader: Reader, context: FlexContext, notes: list[str]
) -> list[Storage]:
    entries: list[tuple[str, Any]]
    if isinstance(raw, Mapping):
        entries = [("flex-model", raw)]
    elif isinstance(raw, list):
        entries = [(join_path("flex-model", i), entry) for i, entry in enumerate(raw)]
    else:
        raise ProblemError("invalid_type", "expected a list of flex-model entries", "flex-model")
    devices: list[Storage] = []
    seen: dict[str, str] = {}
    for path, entry in entries:
        mapping = _mapping(entry, path)
        name = mapping.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ProblemError(
                "missing_field", "each flex-model entry needs a 'name'", join_path(path, "name")
            )
        if name in seen:
            raise ProblemError(
                "duplicate_name",
                f"name {name!r} is already used by {seen[name]}",
                join_path(path, "name"),
            )
        seen[name] = path
        device_type = mapping.get("type", "storage")
        if device_type not in DEVICE_TYPES:
            raise ProblemError(
                "unknown_device_type",
                f"unknown device type {device_type!r}; known types: {', '.join(DEVICE_TYPES)}",
                join_path(path, "type"),
            )
        devices.append(_parse_storage(mapping, name, path, reader, context, notes))
    return devices


def _parse_storage(
    entry: Mapping[str, Any],
    name: str,
    path: str,
    reader: Reader,
    context: FlexContext,
    notes: list[str],
) -> Storage:
    _reject_unknown(entry, _STORAGE_KEYS, path)
    grid = reader.grid
    n = grid.n_steps
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
            raise ProblemError("missing_field", f"a storage needs {key!r}", join_path(path, key))
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

    minima = _soc_profile(entry, "soc-minima", path, reader, energy, notes, name)
    maxima = _soc_profile(entry, "soc-maxima", path, reader, energy, notes, name)
    targets = _soc_targets(entry, path, reader, energy, notes, name)
    for target in targets:
        target_path = join_path(join_path(path, "soc-targets"), target.source_index)
        _within(target.value_kwh, soc_min, soc_max, "soc-target", target_path)
    _check_profile(minima, soc_min, soc_max, "soc-minima", join_path(path, "soc-minima"), grid)
    _check_profile(maxima, soc_min, soc_max, "soc-maxima", join_path(path, "soc-maxima"), grid)
    clash = np.flatnonzero(minima > maxima)
    if clash.size:
        raise ProblemError(
            "inconsistent_bounds",
            f"soc-minima is above soc-maxima at {grid.iso_at_boundary(int(clash[0]) + 1)}",
            join_path(path, "soc-minima"),
        )

    gain = _flow_series(entry, "soc-gain", path, reader)
    usage = _flow_series(entry, "soc-usage", path, reader)

    charging, discharging = _efficiencies(entry, path, reader)
    storage_efficiency = _storage_efficiency(entry, path, reader)

    power = _series_or_inf(reader, entry, "power-capacity", Dimension.POWER, path)
    consumption = _series_or_inf(reader, entry, "consumption-capacity", Dimension.POWER, path)
    production = _series_or_inf(reader, entry, "production-capacity", Dimension.POWER, path)
    if not (
        np.isfinite(power).all()
        or (np.isfinite(consumption).all() and np.isfinite(production).all())
    ):
        raise ProblemError(
            "missing_field",
            "a storage needs a 'power-capacity' (or both 'consumption-capacity' and "
            "'production-capacity') for every step",
            join_path(path, "power-capacity"),
        )
    soft_consumption = np.full(n, np.nan)
    soft_production = np.full(n, np.nan)
    if (
        context.device_consumption_breach_price_per_kw is not None
        and "consumption-capacity" in entry
    ):
        soft_consumption, consumption = np.minimum(consumption, power), power
    if context.device_production_breach_price_per_kw is not None and "production-capacity" in entry:
        soft_production, production = np.minimum(production, power), power
    available = _availability(entry, path, reader)
    return Storage(
        name=name,
        path=path,
        soc_at_start_kwh=soc_at_start,
        soc_min_kwh=soc_min,
        soc_max_kwh=soc_max,
        soc_minima_kwh=minima,
        soc_maxima_kwh=maxima,
        targets=tuple(targets),
        net_gain_kw=gain - usage,
        charging_efficiency=charging,
        discharging_efficiency=discharging,
        storage_efficiency_per_step=storage_efficiency,
        consumption_capacity_kw=np.where(available, np.minimum(consumption, power), 0.0),
        production_capacity_kw=np.where(available, np.minimum(production, power), 0.0),
        soft_consumption_capacity_kw=np.where(available, soft_consumption, np.nan),
        soft_production_capacity_kw=np.where(available, soft_production, np.nan),
        prefer_charging_sooner=_boolean(entry, "prefer-charging-sooner", True, path),
    )


def _within(value: float, low: float, high: float, what: str, path: str) -> None:
    if value < low - 1e-9:
        raise ProblemError(
            "inconsistent_bounds", f"{what} {value:g} kWh is below soc-min {low:g} kWh", path
        )
    if value > high + 1e-9:
        raise ProblemError(
            "inconsistent_bounds", f"{what} {value:g} kWh is above soc-max {high:g} kWh", path
        )


def _check_profile(
    profile: FloatArray, low: float, high: float, what: str, path: str, grid: TimeGrid
) -> None:
    outside = np.flatnonzero((profile < low - 1e-9) | (profile > high + 1e-9))
    if outside.size:
        j = int(outside[0])
        raise ProblemError(
            "inconsistent_bounds",
            f"{what} {profile[j]:g} kWh at {grid.iso_at_boundary(j + 1)} is outside "
            f"[soc-min {low:g}, soc-max {high:g}] kWh",
            path,
        )


def _state_index(reader: Reader, moment_s: float) -> int | None:
    """The state a soc constraint at `moment_s` applies to: the last step end at or before it.

    A moment inside the first step applies to the end of the first step (the earliest state a
    plan can change); moments before the start or after the end have no state (None).
    """
    grid = reader.grid
    offset = (moment_s - grid.boundaries_s[0]) / grid.step.total_seconds()
    if offset < -1e-9 or offset > grid.n_steps + 1e-9:
        return None
    return max(1, math.floor(float(offset) + 1e-9)) - 1


def _soc_targets(
    entry: Mapping[str, Any], path: str, reader: Reader, energy: Any, notes: list[str], name: str
) -> list[SocTarget]:
    raw = entry.get("soc-targets")
    if raw is None:
        return []
    key_path = join_path(path, "soc-targets")
    if not isinstance(raw, list):
        raise ProblemError("invalid_type", "expected a list of {datetime, value}", key_path)
    targets: list[SocTarget] = []
    for i, item in enumerate(raw):
        item_path = join_path(key_path, i)
        item_map = _mapping(item, item_path)
        if "value" not in item_map:
            raise ProblemError("missing_field", "a soc-target needs a 'value'", item_path)
        value = energy(item_map["value"], join_path(item_path, "value"))
        for moment_s in _moments(item_map, item_path, reader):
            state = _state_index(reader, moment_s)
            if state is None:
                notes.append(
                    f"{name}: soc-target at {iso_utc(moment_s)} is outside the plan and was ignored"
                )
                continue
            targets.append(SocTarget(state_index=state, value_kwh=value, source_index=i))
    return targets


def _moments(item: Mapping[str, Any], path: str, reader: Reader) -> Iterable[float]:
    """The state times an entry covers: one `datetime`, or every step end in [start, end]."""
    if "datetime" in item:
        yield parse_datetime(item["datetime"], join_path(path, "datetime")).timestamp()
        return
    start, end = reader.event_span(item, path)
    boundaries = reader.grid.boundaries_s[1:]
    yield from boundaries[(boundaries >= start - 1e-6) & (boundaries <= end + 1e-6)].tolist()


def _soc_profile(
    entry: Mapping[str, Any],
    key: str,
    path: str,
    reader: Reader,
    energy: Any,
    notes: list[str],
    name: str,
) -> FloatArray:
    """soc-minima / soc-maxima as a per-state array (NaN where unconstrained)."""
    n = reader.grid.n_steps
    profile = np.full(n, np.nan)
    raw = entry.get(key)
    if raw is None:
        return profile
    key_path = join_path(path, key)
    if not isinstance(raw, list):
        # A constant applies to every state.
        profile[:] = energy(raw, key_path)
        return profile
    pick = np.fmax if key == "soc-minima" else np.fmin
    for i, item in enumerate(raw):
        item_path = join_path(key_path, i)
        item_map = _mapping(item, item_path)
        if "value" not in item_map:
            raise ProblemError("missing_field", f"a {key} entry needs a 'value'", item_path)
        value = energy(item_map["value"], join_path(item_path, "value"))
        hit = False
        for moment_s in _moments(item_map, item_path, reader):
            state = _state_index(reader, moment_s)
            if state is not None:
                profile[state] = pick(profile[state], value)
                hit = True
        if not hit:
            notes.append(f"{name}: {key}[{i}] is outside the plan and was ignored")
    return profile


def _flow_series(entry: Mapping[str, Any], key: str, path: str, reader: Reader) -> FloatArray:
    raw = entry.get(key)
    if raw is None:
        return np.zeros(reader.grid.n_steps)
    if (
        isinstance(raw, list)
        and raw
        and not all(isinstance(x, Mapping) and "value" in x for x in raw)
    ):
        # FlexMeasures allows a list of series: they add up.
        total = np.zeros(reader.grid.n_steps)
        for i, item in enumerate(raw):
            total += reader.series(
                item, Dimension.POWER, join_path(join_path(path, key), i), energy_per_interval=True
            )
        return total
    return reader.series(raw, Dimension.POWER, join_path(path, key), energy_per_interval=True)


def _fraction(reader: Reader, entry: Mapping[str, Any], key: str, path: str) -> float | None:
    value = reader.optional_quantity(entry, key, Dimension.FRACTION, path)
    if value is not None and not 0.0 < value <= 1.0:
        raise ProblemError(
            "out_of_range", f"{key} must be in (0, 100%], got {value:.6g}", join_path(path, key)
        )
    return value


def _efficiencies(entry: Mapping[str, Any], path: str, reader: Reader) -> tuple[float, float]:
    roundtrip = _fraction(reader, entry, "roundtrip-efficiency", path)
    charging = _fraction(reader, entry, "charging-efficiency", path)
    discharging = _fraction(reader, entry, "discharging-efficiency", path)
    if roundtrip is not None:
        if charging is not None or discharging is not None:
            raise ProblemError(
                "conflicting_fields",
                "give roundtrip-efficiency or charging/discharging-efficiency, not both",
                join_path(path, "roundtrip-efficiency"),
            )
        charging = discharging = math.sqrt(roundtrip)
    return (charging or 1.0), (discharging or 1.0)


def _storage_efficiency(entry: Mapping[str, Any], path: str, reader: Reader) -> float:
    """Retention per plan step, given per `storage-efficiency-resolution` (default: a plan step)."""
    retention = _fraction(reader, entry, "storage-efficiency", path)
    if retention is None:
        return 1.0
    if "storage-efficiency-resolution" not in entry:
        return retention
    reference = parse_duration(
        entry["storage-efficiency-resolution"], join_path(path, "storage-efficiency-resolution")
    )
    return float(retention ** (reader.grid.step / reference))


def _availability(entry: Mapping[str, Any], path: str, reader: Reader) -> FloatArray:
    """Steps wholly inside an availability window (an EV is plugged in); all steps if not given."""
    n = reader.grid.n_steps
    raw = entry.get("availability")
    if raw is None:
        return np.ones(n, dtype=bool)
    key_path = join_path(path, "availability")
    if not isinstance(raw, list):
        raise ProblemError(
            "invalid_type", "expected a list of {start, end|duration} windows", key_path
        )
    windows = [reader.event_span(item, join_path(key_path, i)) for i, item in enumerate(raw)]
    inside = np.zeros(n, dtype=bool)
    boundaries = reader.grid.boundaries_s
    for start, end in windows:
        inside |= (boundaries[:-1] >= start - 1e-6) & (boundaries[1:] <= end + 1e-6)
    return inside
