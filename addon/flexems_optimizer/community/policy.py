"""How a community host turns its members' profiles into signals: the policy and its presets.

FlexMeasures' loop raises a peak price where the aggregate breaches the shared capacity and
asks every member to re-plan. With the same price for everyone, every home flees the same step
for the same next-cheapest one (the waterbed effect). The remedies are options of one policy:
- `prices: "discriminated"`: each member's price scales with its share of the breach;
- `smoothing_steps`: prices spread over neighbouring steps with a Gaussian kernel (a hill,
  not a spike, so homes do not all land on the step next to it);
- `damping`: the price step shrinks round by round (1 / (1 + damping · round));
- `capacity_after_rounds`: after that many price rounds, allocate the capacity per member and
  step instead (the limit then holds by construction), moved between members by the marginal
  value of their limit (`allocation: "marginal-value"`) or kept as first allocated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..problem.errors import ProblemError, join_path

PRICE_RULES = ("uniform", "discriminated", "none")
ALLOCATIONS = ("proportional", "marginal-value")


@dataclass(frozen=True)
class Policy:
    prices: str = "discriminated"
    price_step_eur_per_kwh: float = 0.05  # a price rise for a breach as large as the capacity
    smoothing_steps: float = 1.0  # the kernel's standard deviation, in steps (0: sharp)
    damping: float = 0.5
    capacity_after_rounds: int | None = 8  # None: prices only
    allocation: str = "marginal-value"
    max_rounds: int = 20

    def as_dict(self) -> dict[str, Any]:
        return {field.name.replace("_", "-"): getattr(self, field.name) for field in fields(self)}


# Named policies, for the benchmark's comparison and as starting points for a host.
PRESETS: dict[str, Policy] = {
    # FlexMeasures' loop as in the seed talk: one peak price for all, sharp, undamped.
    "flexmeasures": Policy(
        prices="uniform", smoothing_steps=0.0, damping=0.0, capacity_after_rounds=None
    ),
    "discriminated": Policy(smoothing_steps=0.0, damping=0.0, capacity_after_rounds=None),
    "smoothed": Policy(prices="uniform", damping=0.0, capacity_after_rounds=None),
    "damped": Policy(prices="uniform", smoothing_steps=0.0, capacity_after_rounds=None),
    "remedies": Policy(capacity_after_rounds=None),
    "capacity-fallback": Policy(allocation="proportional"),
    "marginal-value": Policy(),
    "capacity": Policy(prices="none", capacity_after_rounds=0),
}
DEFAULT_POLICY = "marginal-value"


def parse_policy(raw: object, path: str = "policy") -> Policy:
    """A preset's name, or an object of the policy's fields (kebab-case) over a preset's."""
    if raw is None:
        return PRESETS[DEFAULT_POLICY]
    if isinstance(raw, str):
        if raw not in PRESETS:
            raise ProblemError(
                "invalid_policy",
                f"policy {raw!r} is not one of {', '.join(map(repr, PRESETS))}",
                path,
            )
        return PRESETS[raw]
    if not isinstance(raw, Mapping):
        raise ProblemError("invalid_type", "a policy is a preset's name or an object", path)
    base = parse_policy(raw.get("preset", DEFAULT_POLICY), join_path(path, "preset"))
    values = base.as_dict()
    for key, value in raw.items():
        if key == "preset":
            continue
        if key not in values:
            known = ", ".join(sorted(values))
            raise ProblemError(
                "unknown_field", f"unknown policy field {key!r} (known: {known})",
                join_path(path, key),
            )  # fmt: skip
        values[key] = _checked(key, value, join_path(path, key))
    return Policy(**{key.replace("-", "_"): value for key, value in values.items()})


def _checked(key: str, value: object, path: str) -> object:
    if key == "prices":
        return _choice(value, PRICE_RULES, path)
    if key == "allocation":
        return _choice(value, ALLOCATIONS, path)
    if key == "capacity-after-rounds" and value is None:
        return None
    if key in ("max-rounds", "capacity-after-rounds"):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            raise ProblemError("invalid_value", "expected a whole number from 0 to 1000", path)
        if key == "max-rounds" and value < 1:
            raise ProblemError("invalid_value", "a community needs at least 1 round", path)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError("invalid_type", "expected a number", path)
    number = float(value)
    top = 10.0 if key == "price-step-eur-per-kwh" else 100.0
    if not 0.0 <= number <= top:
        raise ProblemError("invalid_value", f"expected a number from 0 to {top:g}", path)
    return number


def _choice(value: object, choices: tuple[str, ...], path: str) -> str:
    if value not in choices:
        raise ProblemError(
            "invalid_value", f"{value!r} is not one of {', '.join(map(repr, choices))}", path
        )
    assert isinstance(value, str)
    return value
