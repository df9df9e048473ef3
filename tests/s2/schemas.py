"""The S2 JSON schemas of the standard (../shared/reference), to validate what flexems sends."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[3] / "shared" / "reference" / "s2-json-schema"


@cache
def _registry() -> tuple[Registry, dict[str, str]]:
    resources, by_type = [], {}
    for path in sorted(ROOT.glob("*/*.schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
        if path.parent.name == "messages":
            by_type[path.name.removesuffix(".schema.json")] = schema["$id"]
    return Registry().with_resources(resources), by_type


def validate(message: dict[str, Any]) -> None:
    """Raises jsonschema.ValidationError unless `message` is valid by the standard's schema."""
    registry, by_type = _registry()
    schema = registry.contents(by_type[message["message_type"]])
    jsonschema.Draft202012Validator(schema, registry=registry).validate(message)
