"""Parse and validate a site problem (PROBLEM-FORMAT.md) into typed, grid-aligned arrays."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import fields
from .errors import ProblemError, join_path
from .heating import check_heat_links, parse_heat_pump, parse_heat_storage
from .model import (
    DEFAULT_CAPACITY_BREACH_PRICE_PER_KW,
    DEFAULT_SOC_BREACH_PRICE_PER_KWH,
    Device,
    FlexContext,
    Objective,
    SiteLimit,
    SiteProblem,
    Storage,
)
from .processes import parse_process
from .quantities import Dimension
from .reader import Reader
from .run_rules import RUN_KEYS, parse_run_rules
from .s2_frbc import parse_fill_rate_device
from .s2_pebc import parse_power_envelope_device
from .stock import own_price, parse_stock
from .text import check_text
from .timegrid import FloatArray, TimeGrid
from .timing import parse_datetime, parse_duration

MAX_STEPS = 50_000  # a year at 15 minutes fits; a year at 1 minute is refused as absurd
# What one worker can hold: devices × steps (a home's ten devices for a year of hours, four for
# a year of quarter hours); larger problems would need gigabytes in HiGHS.
MAX_DEVICES = 100
MAX_DEVICE_STEPS = 400_000

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
    "community-price", "community-consumption-capacity", "community-production-capacity",
}  # fmt: skip
_STORAGE_KEYS = {
    "name", "type", "soc-at-start", "soc-unit", "soc-min", "soc-max", "soc-minima",
    "soc-maxima", "soc-targets", "soc-gain", "soc-usage", "charging-efficiency",
    "discharging-efficiency", "roundtrip-efficiency", "storage-efficiency",
    "storage-efficiency-resolution", "power-capacity", "consumption-capacity",
    "production-capacity", "prefer-charging-sooner", "availability", "consumption-price",
    "min-power", "on-off", *RUN_KEYS,
}  # fmt: skip
DEVICE_TYPES = ("storage", "heat-storage", "heat-pump", "process", "s2-frbc", "s2-pebc")


def parse_problem(raw: object) -> SiteProblem:
    """Validate a site problem; raises `ProblemError` naming the first invalid field."""
    problem = fields.mapping(raw, "")
    check_text(problem)
    fields.reject_unknown(problem, _TOP_KEYS, "")
    grid = _parse_grid(problem)
    _check_size(problem.get("flex-model", []), grid.n_steps)
    reader = Reader(grid)
    notes: list[str] = []
    objective = _parse_objective(problem.get("objective", "cost"))
    context_raw = fields.mapping(problem.get("flex-context", {}), "flex-context")
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


def _inflexible(reader: Reader, context: Mapping[str, Any], key: str, path: str) -> FloatArray:
    return fields.summed_flows(
        reader, context.get(key), join_path(path, key),
        non_negative_as="inflexible power (kW, always ≥ 0)",
    )  # fmt: skip


def _parse_flex_context(
    context: Mapping[str, Any], reader: Reader, objective: Objective
) -> FlexContext:
    path = "flex-context"
    fields.reject_unknown(context, _CONTEXT_KEYS, path)
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
    relax = fields.boolean(context, "relax-constraints", True, path)

    def price(key: str, dimension: Dimension) -> float | None:
        value = reader.optional_quantity(context, key, dimension, path)
        if value is not None and value < 0:
            raise ProblemError(
                "negative_value", "a breach price must not be negative", join_path(path, key)
            )
        return value

    def site_limit(side: str) -> SiteLimit:
        power = fields.series_or_inf(reader, context, "site-power-capacity", Dimension.POWER, path)
        contract = fields.series_or_inf(
            reader, context, f"site-{side}-capacity", Dimension.POWER, path
        )
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
        inflexible_consumption_kw=_inflexible(reader, context, "inflexible-consumption", path),
        inflexible_production_kw=_inflexible(reader, context, "inflexible-production", path),
        soc_minima_breach_price_per_kwh=soc_minima_price,
        soc_maxima_breach_price_per_kwh=soc_maxima_price,
        device_consumption_breach_price_per_kw=price(
            "consumption-breach-price", Dimension.POWER_PRICE
        ),
        device_production_breach_price_per_kw=price(
            "production-breach-price", Dimension.POWER_PRICE
        ),
        relax_constraints=relax,
        community_price=_community_price(reader, context, path),
        community_consumption_kw=_community_share(reader, context, "consumption", path),
        community_production_kw=_community_share(reader, context, "production", path),
    )


def _community_share(
    reader: Reader, context: Mapping[str, Any], side: str, path: str
) -> FloatArray | None:
    key = f"community-{side}-capacity"
    if context.get(key) is None:
        return None
    values = reader.series(context[key], Dimension.POWER, join_path(path, key), required=False)
    return np.where(np.isnan(values), np.inf, values)


def _community_price(reader: Reader, context: Mapping[str, Any], path: str) -> FloatArray | None:
    """The community's signal: 0 on steps the host said nothing about (past its horizon)."""
    if context.get("community-price") is None:
        return None
    values = reader.series(
        context["community-price"], Dimension.ENERGY_PRICE, join_path(path, "community-price"),
        required=False,
    )  # fmt: skip
    return np.nan_to_num(values, nan=0.0)


def _tightest(parts: Mapping[str, FloatArray], n: int) -> tuple[FloatArray, tuple[str, ...]]:
    """Per step, the smallest of several limits and the name of the one that sets it."""
    names = list(parts)
    stacked = np.vstack([parts[name] for name in names]) if names else np.full((1, n), np.inf)
    which = np.argmin(stacked, axis=0)
    limit = stacked[which, np.arange(n)]
    return limit, tuple(names[i] if names else "" for i in which)


def _check_size(flex_model: object, n_steps: int) -> None:
    """Refuse at once what a worker could not hold, before building anything."""
    count = len(flex_model) if isinstance(flex_model, list) else 1
    if count > MAX_DEVICES:
        raise ProblemError(
            "too_large", f"{count} devices is more than the {MAX_DEVICES} a plan may have",
            "flex-model",
        )  # fmt: skip
    if count * n_steps > MAX_DEVICE_STEPS:
        raise ProblemError(
            "too_large",
            f"{count} devices × {n_steps} steps is more than the {MAX_DEVICE_STEPS} a plan may "
            "have; use a coarser resolution, a shorter horizon or fewer devices",
            "flex-model",
        )


def _parse_flex_model(
    raw: object, reader: Reader, context: FlexContext, notes: list[str]
) -> list[Device]:
    entries: list[tuple[str, Any]]
    if isinstance(raw, Mapping):
        entries = [("flex-model", raw)]
    elif isinstance(raw, list):
        entries = [(join_path("flex-model", i), entry) for i, entry in enumerate(raw)]
    else:
        raise ProblemError("invalid_type", "expected a list of flex-model entries", "flex-model")
    devices: list[Device] = []
    seen: dict[str, str] = {}
    for path, entry in entries:
        mapping = fields.mapping(entry, path)
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
        if device_type == "storage":
            devices.append(_parse_storage(mapping, name, path, reader, context, notes))
        elif device_type == "heat-storage":
            devices.append(parse_heat_storage(mapping, name, path, reader, notes))
        elif device_type == "heat-pump":
            devices.append(parse_heat_pump(mapping, name, path, reader))
        elif device_type == "s2-frbc":
            devices.append(parse_fill_rate_device(mapping, name, path, reader))
        elif device_type == "s2-pebc":
            devices.append(parse_power_envelope_device(mapping, name, path, reader))
        else:
            devices.append(parse_process(mapping, name, path, reader, notes))
    check_heat_links(devices)
    return devices


def _parse_storage(
    entry: Mapping[str, Any],
    name: str,
    path: str,
    reader: Reader,
    context: FlexContext,
    notes: list[str],
) -> Storage:
    fields.reject_unknown(entry, _STORAGE_KEYS, path)
    grid = reader.grid
    n = grid.n_steps
    stock = parse_stock(entry, name, path, reader, notes, "a storage")
    charging, discharging = _efficiencies(entry, path, reader)

    power = fields.series_or_inf(reader, entry, "power-capacity", Dimension.POWER, path)
    consumption = fields.series_or_inf(reader, entry, "consumption-capacity", Dimension.POWER, path)
    production = fields.series_or_inf(reader, entry, "production-capacity", Dimension.POWER, path)
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
    consumption_kw = np.where(available, np.minimum(consumption, power), 0.0)
    min_charging = _min_charging(entry, path, reader, consumption_kw)
    return Storage(
        name=name,
        path=path,
        soc_at_start_kwh=stock.soc_at_start_kwh,
        soc_min_kwh=stock.soc_min_kwh,
        soc_max_kwh=stock.soc_max_kwh,
        soc_minima_kwh=stock.soc_minima_kwh,
        soc_maxima_kwh=stock.soc_maxima_kwh,
        targets=stock.targets,
        net_gain_kw=stock.net_gain_kw,
        charging_efficiency=charging,
        discharging_efficiency=discharging,
        storage_efficiency_per_step=stock.storage_efficiency_per_step,
        consumption_capacity_kw=consumption_kw,
        production_capacity_kw=np.where(available, np.minimum(production, power), 0.0),
        soft_consumption_capacity_kw=np.where(available, soft_consumption, np.nan),
        soft_production_capacity_kw=np.where(available, soft_production, np.nan),
        prefer_charging_sooner=fields.boolean(entry, "prefer-charging-sooner", True, path),
        own_price=own_price(entry, path, reader),
        min_charging_kw=min_charging,
        run_rules=parse_run_rules(entry, path, reader, on_off=min_charging is not None),
    )


def _min_charging(
    entry: Mapping[str, Any], path: str, reader: Reader, capacity_kw: FloatArray
) -> FloatArray | None:
    """`min-power`: charging is 0 or at least this; `on-off`: 0 or the whole capacity."""
    # on-off is "at least the capacity", whatever the capacity is at each step.
    minimum = fields.on_off_minimum(entry, path, reader, math.inf)
    return np.minimum(minimum, capacity_kw) if minimum else None


def _efficiencies(entry: Mapping[str, Any], path: str, reader: Reader) -> tuple[float, float]:
    roundtrip = fields.fraction(reader, entry, "roundtrip-efficiency", path)
    charging = fields.fraction(reader, entry, "charging-efficiency", path)
    discharging = fields.fraction(reader, entry, "discharging-efficiency", path)
    if roundtrip is not None:
        if charging is not None or discharging is not None:
            raise ProblemError(
                "conflicting_fields",
                "give roundtrip-efficiency or charging/discharging-efficiency, not both",
                join_path(path, "roundtrip-efficiency"),
            )
        charging = discharging = math.sqrt(roundtrip)
    return (charging or 1.0), (discharging or 1.0)


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
