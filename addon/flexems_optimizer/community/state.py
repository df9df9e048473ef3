"""A host's round as JSON for the store (inf as null), and back."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np

from .coordinator import Round

_ARRAYS = ("price", "consumption_kw", "production_kw", "consumption_price",
           "production_price", "average_kw")  # fmt: skip


def round_to_json(state: Round) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for field in fields(state):
        value = getattr(state, field.name)
        if field.name in _ARRAYS:
            array = np.asarray(value, dtype=np.float64)
            body[field.name] = np.where(np.isfinite(array), array, np.nan).tolist()
            body[field.name] = _nulls(body[field.name])
        else:
            body[field.name] = value
    return body


def round_from_json(body: dict[str, Any]) -> Round:
    values: dict[str, Any] = {}
    for field in fields(Round):
        raw = body[field.name]
        if field.name in _ARRAYS:
            array = np.array(raw, dtype=np.float64)  # None → nan
            values[field.name] = np.where(np.isnan(array), np.inf, array)
        else:
            values[field.name] = raw
    return Round(**values)


def _nulls(values: Any) -> Any:
    if isinstance(values, list):
        return [_nulls(v) for v in values]
    return None if isinstance(values, float) and np.isnan(values) else values
