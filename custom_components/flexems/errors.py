"""The one error of reading Home Assistant's inputs: which input, and what is wrong with it."""

from __future__ import annotations


class MissingInputError(Exception):
    """An input the problem needs (an entity, an integration) is missing or unusable.

    `reason` completes "it ...": "is unavailable", "has no price list in its attribute 'x'".
    """

    def __init__(self, entity_id: str, reason: str) -> None:
        super().__init__(f"{entity_id} {reason}")
        self.entity_id = entity_id
        self.reason = reason
