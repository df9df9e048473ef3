"""The one error type for invalid input: a code, a message and the JSON path of the field."""

from __future__ import annotations

from typing import Any


class ProblemError(ValueError):
    """An invalid site problem; `path` points at the field, e.g. `flex-model[0].soc-max`."""

    def __init__(self, code: str, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.code = code
        self.message = message
        self.path = path

    def __reduce__(self) -> tuple[type[ProblemError], tuple[str, str, str]]:
        # Picklable with all three fields: errors travel back from worker processes.
        return (ProblemError, (self.code, self.message, self.path))

    def as_dict(self) -> dict[str, Any]:
        """The error as the API and CLI show it."""
        return {"error": {"code": self.code, "message": self.message, "path": self.path}}


def join_path(path: str, key: str | int) -> str:
    """Extend a JSON path: `join_path("flex-model", 0)` → `flex-model[0]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
