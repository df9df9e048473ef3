"""The plan's time grid: equal steps from start to end, built in UTC so DST days have 23/25 h."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt

from .timing import iso_utc

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TimeGrid:
    """`n_steps` steps of `step` from `start` (tz-aware; its offset is kept for display)."""

    start: datetime
    step: timedelta
    n_steps: int

    @property
    def end(self) -> datetime:
        return self.start + self.step * self.n_steps

    @property
    def step_hours(self) -> float:
        return self.step.total_seconds() / 3600.0

    @cached_property
    def boundaries_s(self) -> FloatArray:
        """Epoch seconds of the n+1 step boundaries (start of each step, then the end)."""
        start = self.start.timestamp()
        return start + self.step.total_seconds() * np.arange(self.n_steps + 1, dtype=np.float64)

    def timestamps_iso(self) -> list[str]:
        """The start of each step in UTC, as the plan reports them (like `iso_utc`)."""
        moments = np.round(self.boundaries_s[:-1] * 1e6).astype("datetime64[us]")
        if self.step.total_seconds() % 1 == 0:
            texts: list[str] = (np.datetime_as_string(moments, unit="s") + "Z").tolist()
        else:
            texts = (np.datetime_as_string(moments, unit="us") + "Z").tolist()
        return texts

    def iso_at_boundary(self, index: int) -> str:
        """Boundary `index` (0 = plan start, n = plan end) in UTC."""
        return iso_utc(float(self.boundaries_s[index]))
