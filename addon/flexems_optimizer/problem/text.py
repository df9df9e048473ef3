"""Text in a problem: every string short and valid Unicode, checked once for the whole body.

Names and units are short; a 7 MB device name would make a 42 MB plan, and a lone surrogate
(valid in JSON, not in UTF-8) could not be written out again.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from .errors import ProblemError, join_path

MAX_TEXT: Final = 200  # characters in any string of a problem, keys included


def check_text(raw: Any) -> None:
    """Raise ProblemError at the first string that is too long or not valid Unicode."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(raw, ())]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            _check_string(value, where)
        elif isinstance(value, dict):
            for key, item in value.items():
                _check_string(str(key), (*where, str(key)))
                if isinstance(item, str | dict | list):
                    stack.append((item, (*where, str(key))))
        elif isinstance(value, list):
            if len(value) > 32 and _all_numbers(value):
                continue  # a series of values: nothing to check, and thousands of them
            stack.extend(
                (item, (*where, i))
                for i, item in enumerate(value)
                if isinstance(item, str | dict | list)
            )


def _all_numbers(values: list[Any]) -> bool:
    """Whether a list holds only numbers, found by numpy in one pass in C."""
    try:
        return np.asarray(values).dtype.kind in "biuf"
    except ValueError, TypeError:  # ragged or mixed lists
        return False


def _check_string(text: str, where: tuple[str | int, ...]) -> None:
    if len(text) > MAX_TEXT:
        raise ProblemError(
            "text_too_long",
            f"text is {len(text)} characters long, at most {MAX_TEXT}",
            _path(where),
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ProblemError(
            "invalid_text", "text holds a lone surrogate, which is not valid Unicode", _path(where)
        ) from None


def _path(where: tuple[str | int, ...]) -> str:
    path = ""
    for part in where:
        path = join_path(path, part)
    return path
