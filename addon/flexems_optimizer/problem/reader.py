"""Reads quantities and time series onto the plan's time grid, remembering the currency used.

A time series is one of:
- a constant quantity (`"5 kW"`, `0.25`),
- `{"start": ISO, "resolution": "PT1H", "values": [...], "unit": "EUR/MWh"}` (null values are gaps),
- events `[{"start": ISO, "duration": "PT1H" | "end": ISO, "value": q}, ...]` (no overlaps).
Every series is resampled to the plan's steps as a time-weighted average over each step: a
coarser series gives each step the value of the interval that contains it, and a finer power
series keeps its energy. A step not fully covered by the series is NaN (a gap).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ProblemError, join_path
from .quantities import MAX_MAGNITUDE, Dimension, parse_quantity
from .timegrid import FloatArray, TimeGrid
from .timing import iso_utc, parse_datetime, parse_duration

_COVERAGE_SLACK_S = 1e-6
_PLAIN_NUMBERS = (int, float, type(None))


@dataclass
class Reader:
    """Parses values for one problem; all prices must share one currency."""

    grid: TimeGrid
    currency: str | None = None
    _currency_path: str = field(default="", repr=False)

    def quantity(self, raw: object, dimension: Dimension, path: str) -> float:
        """A constant quantity in its internal unit."""
        parsed = parse_quantity(raw, dimension, path)
        if parsed.currency is not None:
            self._note_currency(parsed.currency, path)
        return parsed.value

    def optional_quantity(
        self, mapping: Mapping[str, Any], key: str, dimension: Dimension, path: str
    ) -> float | None:
        if mapping.get(key) is None:
            return None
        return self.quantity(mapping[key], dimension, join_path(path, key))

    def flow(self, raw: object, path: str) -> float:
        """A power, or an energy per plan step (`"0.5 kWh"` taken each step) turned into kW."""
        try:
            return self.quantity(raw, Dimension.POWER, path)
        except ProblemError as power_error:
            try:
                return self.quantity(raw, Dimension.ENERGY, path) / self.grid.step_hours
            except ProblemError:
                raise power_error from None

    def series(
        self,
        raw: object,
        dimension: Dimension,
        path: str,
        *,
        required: bool = True,
        energy_per_interval: bool = False,
    ) -> FloatArray:
        """A series on the grid. `required` series must cover every step; others have NaN gaps.

        With `energy_per_interval`, values in energy units mean energy over their interval
        (a `soc-usage` of `"0.5 kWh"` per 15 minutes) and are read as the average power.
        """
        n = self.grid.n_steps
        if isinstance(raw, int | float | str) and not isinstance(raw, bool):
            if energy_per_interval:
                return np.full(n, self.flow(raw, path))
            return np.full(n, self.quantity(raw, dimension, path))
        if isinstance(raw, Mapping):
            starts, ends, values = self._regular(raw, dimension, path, energy_per_interval)
        elif isinstance(raw, list):
            starts, ends, values = self._events(raw, dimension, path, energy_per_interval)
        else:
            raise ProblemError(
                "invalid_series",
                "expected a quantity, {start, resolution, values} or a list of "
                "{start, duration|end, value} events",
                path,
            )
        result = self._resample(starts, ends, values, path)
        if required and np.isnan(result).any():
            first_gap = int(np.flatnonzero(np.isnan(result))[0])
            raise ProblemError(
                "series_gap",
                "the series does not cover the step starting "
                f"{self.grid.iso_at_boundary(first_gap)} (it must cover "
                f"{self.grid.iso_at_boundary(0)} to {self.grid.iso_at_boundary(n)})",
                path,
            )
        return result

    def _note_currency(self, currency: str, path: str) -> None:
        if self.currency is None:
            self.currency, self._currency_path = currency, path
        elif currency != self.currency:
            raise ProblemError(
                "mixed_currencies",
                f"price in {currency} but {self._currency_path} is in {self.currency}; "
                "use one currency per problem",
                path,
            )

    def _value(self, raw: object, dimension: Dimension, path: str, per_interval_h: float) -> float:
        if per_interval_h > 0:
            try:
                return self.quantity(raw, Dimension.POWER, path)
            except ProblemError as power_error:
                try:
                    return self.quantity(raw, Dimension.ENERGY, path) / per_interval_h
                except ProblemError:
                    raise power_error from None
        return self.quantity(raw, dimension, path)

    def _regular(
        self, raw: Mapping[str, Any], dimension: Dimension, path: str, energy_per_interval: bool
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        for key in ("start", "resolution", "values"):
            if key not in raw:
                raise ProblemError("missing_field", f"a series needs {key!r}", join_path(path, key))
        start = parse_datetime(raw["start"], join_path(path, "start")).timestamp()
        resolution_s = parse_duration(
            raw["resolution"], join_path(path, "resolution")
        ).total_seconds()
        values_raw = raw["values"]
        if not isinstance(values_raw, list):
            raise ProblemError(
                "invalid_series", "'values' must be a list", join_path(path, "values")
            )
        unit = raw.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise ProblemError("invalid_unit", "'unit' must be a string", join_path(path, "unit"))
        per_interval_h = resolution_s / 3600.0 if energy_per_interval else 0.0
        if all(type(item) in _PLAIN_NUMBERS for item in values_raw):
            # The common case (long price and forecast lists): convert the unit once.
            values = np.array(values_raw, dtype=np.float64)
            bad = np.flatnonzero(~(np.abs(values) <= MAX_MAGNITUDE) & ~np.isnan(values))
            if bad.size:
                raise ProblemError(
                    "out_of_range" if np.isfinite(values[bad[0]]) else "invalid_quantity",
                    f"the value must be a finite number within ±{MAX_MAGNITUDE:g}",
                    join_path(join_path(path, "values"), int(bad[0])),
                )
            if unit is not None:
                values *= self._value(
                    f"1 {unit}", dimension, join_path(path, "unit"), per_interval_h
                )
        else:
            values = np.full(len(values_raw), np.nan)
            for i, item in enumerate(values_raw):
                if item is None:
                    continue
                item_path = join_path(join_path(path, "values"), i)
                quantity = item
                if unit is not None:
                    if isinstance(item, bool) or not isinstance(item, int | float):
                        raise ProblemError(
                            "invalid_quantity",
                            "with 'unit' given, values must be numbers",
                            item_path,
                        )
                    quantity = f"{item} {unit}"
                values[i] = self._value(quantity, dimension, item_path, per_interval_h)
        starts = start + resolution_s * np.arange(len(values), dtype=np.float64)
        keep = ~np.isnan(values)
        return starts[keep], starts[keep] + resolution_s, values[keep]

    def _events(
        self, raw: list[Any], dimension: Dimension, path: str, energy_per_interval: bool
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        count = len(raw)
        starts, ends, values = np.empty(count), np.empty(count), np.empty(count)
        for i, event in enumerate(raw):
            event_path = join_path(path, i)
            start, end = self.event_span(event, event_path)
            if "value" not in event:
                raise ProblemError("missing_field", "an event needs a 'value'", event_path)
            per_interval_h = (end - start) / 3600.0 if energy_per_interval else 0.0
            values[i] = self._value(
                event["value"], dimension, join_path(event_path, "value"), per_interval_h
            )
            starts[i], ends[i] = start, end
        order = np.argsort(starts, kind="stable")
        starts, ends, values = starts[order], ends[order], values[order]
        overlaps = np.flatnonzero(starts[1:] < ends[:-1] - _COVERAGE_SLACK_S)
        if overlaps.size:
            later = int(order[overlaps[0] + 1])
            raise ProblemError(
                "overlapping_events",
                f"event starting {iso_utc(float(starts[overlaps[0] + 1]))} overlaps the one "
                "before it",
                join_path(path, later),
            )
        return starts, ends, values

    def event_span(self, event: object, path: str) -> tuple[float, float]:
        """Start and end (epoch seconds) of an event with `start` and `duration` or `end`."""
        if not isinstance(event, Mapping):
            raise ProblemError("invalid_event", "expected an object with 'start'", path)
        if "start" not in event:
            raise ProblemError(
                "missing_field", "an event needs a 'start'", join_path(path, "start")
            )
        start = parse_datetime(event["start"], join_path(path, "start")).timestamp()
        if "end" in event:
            end = parse_datetime(event["end"], join_path(path, "end")).timestamp()
        elif "duration" in event:
            end = (
                start
                + parse_duration(event["duration"], join_path(path, "duration")).total_seconds()
            )
        else:
            raise ProblemError("missing_field", "an event needs 'duration' or 'end'", path)
        if end <= start:
            raise ProblemError("invalid_event", "the event ends before it starts", path)
        return start, end

    def _resample(
        self, starts: FloatArray, ends: FloatArray, values: FloatArray, path: str
    ) -> FloatArray:
        """Time-weighted average of non-overlapping segments over each step; NaN where uncovered."""
        boundaries = self.grid.boundaries_s
        if starts.size == 0:
            return np.full(self.grid.n_steps, np.nan)
        # Cumulative integral and coverage are piecewise linear through the segment ends.
        widths = ends - starts
        integral_after = np.cumsum(values * widths)
        coverage_after = np.cumsum(widths)
        xs = np.column_stack((starts, ends)).ravel()
        integral = np.column_stack((integral_after - values * widths, integral_after)).ravel()
        coverage = np.column_stack((coverage_after - widths, coverage_after)).ravel()
        integral_at = np.interp(boundaries, xs, integral)
        coverage_at = np.interp(boundaries, xs, coverage)
        covered = np.diff(coverage_at)
        step_s = self.grid.step.total_seconds()
        with np.errstate(invalid="ignore", divide="ignore"):
            average = np.diff(integral_at) / step_s
        # A step inside one segment takes its value exactly (no round-off from the integral):
        # the usual case of a series at the plan's resolution or coarser.
        containing = np.searchsorted(starts, boundaries[:-1] + _COVERAGE_SLACK_S, side="right") - 1
        inside = (containing >= 0) & (
            ends[np.maximum(containing, 0)] >= boundaries[1:] - _COVERAGE_SLACK_S
        )
        average[inside] = values[containing[inside]]
        average[covered < step_s - _COVERAGE_SLACK_S * 10] = np.nan
        return average
