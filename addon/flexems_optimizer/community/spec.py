"""A community as `community simulate` reads it: name, shared capacity, policy, and each
member's own site problem. All members plan on one time grid (start, resolution, horizon)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..problem import fields
from ..problem.errors import ProblemError, join_path
from ..problem.model import SiteProblem
from ..problem.parse import parse_problem
from ..problem.quantities import Dimension
from ..problem.reader import Reader
from ..problem.timegrid import TimeGrid
from .coordinator import SharedCapacity
from .policy import Policy, parse_policy

MAX_MEMBERS = 10_000


@dataclass(frozen=True)
class Member:
    name: str
    problem: Mapping[str, Any]  # as given: signals are added to it each round
    parsed: SiteProblem


@dataclass(frozen=True)
class Community:
    name: str
    capacity: SharedCapacity
    policy: Policy
    members: tuple[Member, ...]

    @property
    def grid(self) -> TimeGrid:
        return self.members[0].parsed.grid


def parse_community(raw: object) -> Community:
    """Validate a community file; raises `ProblemError` naming the first invalid field."""
    spec = fields.mapping(raw, "")
    fields.reject_unknown(spec, {"name", "capacity", "policy", "members"}, "")
    name = spec.get("name", "community")
    if not isinstance(name, str) or not name.strip():
        raise ProblemError("invalid_type", "a community needs a name (a string)", "name")
    raw_members = spec.get("members")
    if not isinstance(raw_members, list) or not raw_members:
        raise ProblemError("missing_field", "a community needs a list of members", "members")
    if len(raw_members) > MAX_MEMBERS:
        raise ProblemError(
            "too_large", f"{len(raw_members)} members is more than {MAX_MEMBERS}", "members"
        )
    members = [_member(item, join_path("members", i)) for i, item in enumerate(raw_members)]
    names = [member.name for member in members]
    for i, member_name in enumerate(names):
        if member_name in names[:i]:
            raise ProblemError(
                "duplicate_name", f"two members are called {member_name!r}",
                join_path(join_path("members", i), "name"),
            )  # fmt: skip
    grid = members[0].parsed.grid
    for i, member in enumerate(members[1:], start=1):
        other = member.parsed.grid
        if (other.start, other.step, other.n_steps) != (grid.start, grid.step, grid.n_steps):
            raise ProblemError(
                "mismatched_grid",
                f"member {member.name!r} plans {other.n_steps} steps of {other.step} from "
                f"{other.start.isoformat()}; the community plans {grid.n_steps} steps of "
                f"{grid.step} from {grid.start.isoformat()}",
                join_path(join_path("members", i), "problem"),
            )
    capacity = parse_capacity(spec.get("capacity"), grid, "capacity")
    return Community(name, capacity, parse_policy(spec.get("policy")), tuple(members))


def parse_capacity(raw: object, grid: TimeGrid, path: str) -> SharedCapacity:
    """`{"consumption": q, "production": q}`, each a quantity or a series (absent: no limit)."""
    capacity = fields.mapping(raw, path)
    fields.reject_unknown(capacity, {"consumption", "production"}, path)
    if not capacity:
        raise ProblemError(
            "missing_field", "a shared capacity needs 'consumption' or 'production'", path
        )
    reader = Reader(grid)
    return SharedCapacity(
        consumption_kw=fields.series_or_inf(reader, capacity, "consumption", Dimension.POWER, path),
        production_kw=fields.series_or_inf(reader, capacity, "production", Dimension.POWER, path),
    )


def _member(raw: object, path: str) -> Member:
    entry = fields.mapping(raw, path)
    fields.reject_unknown(entry, {"name", "problem"}, path)
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProblemError(
            "invalid_type", "a member needs a name (a string)", join_path(path, "name")
        )
    problem = fields.mapping(entry.get("problem"), join_path(path, "problem"))
    try:
        parsed = parse_problem(problem)
    except ProblemError as error:
        where = join_path(path, "problem")
        raise ProblemError(
            error.code, error.message, f"{where}.{error.path}" if error.path else where
        ) from None
    return Member(name, problem, parsed)
