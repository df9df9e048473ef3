"""Quantities with units, converted once at the boundary to the optimizer's internal units.

Internal units: power kW, energy kWh, energy price <currency>/kWh, power price <currency>/kW,
CO₂ intensity kg/kWh, efficiencies and other ratios as fractions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum

from .errors import ProblemError

# Beyond this (10 GW, 10 GWh, 10 M per kWh) a value is a typo, and it would ruin the solver's
# numerics; refuse it at the boundary.
MAX_MAGNITUDE = 1e7

_NUMBER_AND_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class Dimension(Enum):
    """What a quantity measures; each has a default unit used when a plain number is given."""

    POWER = "kW"
    ENERGY = "kWh"
    ENERGY_PRICE = "EUR/kWh"
    POWER_PRICE = "EUR/kW"
    CO2_INTENSITY = "kg/kWh"
    FRACTION = "fraction"
    TEMPERATURE = "°C"
    HEAT_CAPACITY = "kWh/K"
    CONDUCTANCE = "kW/K"
    RATIO = "ratio"  # a plain number such as a COP
    MONEY = "EUR"  # an amount, such as the cost of a start: "0.5 EUR", "50 ct"


_POWER_UNITS = {"W": 1e-3, "kW": 1.0, "MW": 1e3, "GW": 1e6}
_ENERGY_UNITS = {"Wh": 1e-3, "kWh": 1.0, "MWh": 1e3, "GWh": 1e6}
_MASS_UNITS = {"g": 1e-3, "kg": 1.0, "t": 1e3}
# Sub-units of a currency: "ct/kWh" and "c/kWh" are hundredths of the problem's currency.
_CENTS = {"ct", "c", "cent", "cents"}


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value in the internal unit of its dimension.

    `currency` is set only when a price names one explicitly (`"0.25 SEK/kWh"`); plain numbers
    and cents are in the problem's currency, whatever it is.
    """

    value: float
    currency: str | None = None


def parse_quantity(raw: object, dimension: Dimension, path: str) -> Quantity:
    """Parse a number (in the dimension's default unit) or a string such as `"5 kW"`."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ProblemError(
            "invalid_quantity",
            f"expected a number or a string with a unit (e.g. {_example(dimension)}), "
            f"got {type(raw).__name__}",
            path,
        )
    if isinstance(raw, int | float):
        value = float(raw)
        _require_finite(value, path)
        require_realistic(value, path)
        return Quantity(value)
    match = _NUMBER_AND_UNIT.match(raw)
    if match is None:
        raise ProblemError(
            "invalid_quantity",
            f"cannot read {raw!r} as a quantity (e.g. {_example(dimension)})",
            path,
        )
    value = float(match.group(1))
    _require_finite(value, path)
    unit = match.group(2)
    quantity = _convert(value, unit, dimension, raw, path)
    require_realistic(quantity.value, path)
    return quantity


def require_realistic(value: float, path: str) -> None:
    if abs(value) > MAX_MAGNITUDE:
        raise ProblemError(
            "out_of_range",
            f"{value:.6g} is beyond the realistic range (±{MAX_MAGNITUDE:g} in kW, kWh or per kWh)",
            path,
        )


def _require_finite(value: float, path: str) -> None:
    if not math.isfinite(value):
        raise ProblemError("invalid_quantity", "the value must be a finite number", path)


def _example(dimension: Dimension) -> str:
    return {
        Dimension.POWER: '"5 kW"',
        Dimension.ENERGY: '"10 kWh"',
        Dimension.ENERGY_PRICE: '"0.25 EUR/kWh"',
        Dimension.POWER_PRICE: '"100 EUR/kW"',
        Dimension.CO2_INTENSITY: '"0.3 kg/kWh"',
        Dimension.FRACTION: '"90%"',
        Dimension.TEMPERATURE: '"55 °C"',
        Dimension.HEAT_CAPACITY: '"0.23 kWh/K"',
        Dimension.CONDUCTANCE: '"0.15 kW/K"',
        Dimension.RATIO: "3.5",
        Dimension.MONEY: '"0.5 EUR"',
    }[dimension]


def _convert(value: float, unit: str, dimension: Dimension, raw: str, path: str) -> Quantity:
    if unit == "":
        return Quantity(value)
    if dimension is Dimension.FRACTION:
        if unit == "%":
            return Quantity(value / 100.0)
    elif dimension is Dimension.POWER:
        if unit in _POWER_UNITS:
            return Quantity(value * _POWER_UNITS[unit])
    elif dimension is Dimension.ENERGY:
        if unit in _ENERGY_UNITS:
            return Quantity(value * _ENERGY_UNITS[unit])
    elif dimension is Dimension.TEMPERATURE:
        if unit in ("°C", "C", "degC"):
            return Quantity(value)
        if unit == "K":
            return Quantity(value - 273.15)
    elif dimension in (Dimension.HEAT_CAPACITY, Dimension.CONDUCTANCE):
        per_units = _ENERGY_UNITS if dimension is Dimension.HEAT_CAPACITY else _POWER_UNITS
        amount, _, per = unit.partition("/")
        if amount in per_units and per == "K":
            return Quantity(value * per_units[amount])
    elif dimension is Dimension.MONEY:
        if unit in _CENTS:
            return Quantity(value / 100.0)
        if _CURRENCY.match(unit):
            return Quantity(value, unit)
    elif dimension is Dimension.CO2_INTENSITY:
        mass, _, energy = unit.partition("/")
        if mass in _MASS_UNITS and energy in _ENERGY_UNITS:
            return Quantity(value * _MASS_UNITS[mass] / _ENERGY_UNITS[energy])
    else:
        per_units = _ENERGY_UNITS if dimension is Dimension.ENERGY_PRICE else _POWER_UNITS
        money, _, per = unit.partition("/")
        if per in per_units:
            if money in _CENTS:
                return Quantity(value / 100.0 / per_units[per], None)
            if _CURRENCY.match(money):
                return Quantity(value / per_units[per], money)
    raise ProblemError(
        "invalid_unit",
        f"unit {unit!r} in {raw!r} is not a unit of {dimension.name.lower().replace('_', ' ')} "
        f"(e.g. {_example(dimension)})",
        path,
    )
