"""The service's own identity: made once per data directory and kept beside the database, so
that Home Assistant knows an add-on however its address is spelled (localhost, 127.0.0.1, a
trailing slash) and after the database is replaced."""

from __future__ import annotations

import uuid
from pathlib import Path

INSTANCE_FILE = "instance_id"


def instance_id(data_dir: Path) -> str:
    """This data directory's instance id (32 hex digits), made on first use."""
    path = data_dir / INSTANCE_FILE
    try:
        known = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        known = ""
    if len(known) == 32 and all(c in "0123456789abcdef" for c in known):
        return known
    made = uuid.uuid4().hex
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(made + "\n", encoding="ascii")
    return made
