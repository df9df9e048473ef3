"""ISO 8601 durations and tz-aware datetimes, read strictly at the boundary."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .errors import ProblemError

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(raw: object, path: str) -> timedelta:
    """Parse an ISO 8601 duration such as `PT15M` or `P1D`.

    Durations are exact: `P1D` is 24 hours, also across a DST change (give an `end` for a
    calendar day). Months and years are refused because their length is ambiguous.
    """
    if not isinstance(raw, str):
        raise ProblemError(
            "invalid_duration", "expected an ISO 8601 duration such as 'PT15M'", path
        )
    match = _DURATION.match(raw.strip().upper())
    if match is None:
        hint = " (months and years have no fixed length)" if re.search(r"P\d*[YM]", raw) else ""
        raise ProblemError(
            "invalid_duration",
            f"cannot read {raw!r} as an ISO 8601 duration such as 'PT15M' or 'P1D'{hint}",
            path,
        )
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    duration = timedelta(**parts)
    if duration <= timedelta(0):
        raise ProblemError("invalid_duration", f"duration {raw!r} must be positive", path)
    return duration


def parse_datetime(raw: object, path: str) -> datetime:
    """Parse a tz-aware ISO 8601 datetime; naive datetimes are refused (their hour is ambiguous)."""
    if not isinstance(raw, str):
        raise ProblemError("invalid_datetime", "expected an ISO 8601 datetime string", path)
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ProblemError(
            "invalid_datetime",
            f"cannot read {raw!r} as an ISO 8601 datetime such as '2026-03-29T00:00:00+01:00'",
            path,
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ProblemError(
            "naive_datetime",
            f"{raw!r} has no UTC offset; add one, e.g. '+01:00' or 'Z'",
            path,
        )
    return value


def epoch_seconds(moment: datetime) -> float:
    """Seconds since the Unix epoch (UTC) of a tz-aware datetime."""
    return moment.timestamp()


def iso_utc(seconds: float) -> str:
    """ISO 8601 in UTC with a `Z`, as used for every timestamp in a plan."""
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
