"""The S2 devices of each site, kept in the service's SQLite file: what each RM said about
itself, the control type chosen, its latest power measurement and forecast, what it said under
its control type (an FRBC device's `s2-frbc` entry), its recent instructions, and whether it is
connected. A device that reconnects with the same resource id keeps all of it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..database import open_database
from ..store import iso_time
from .frbc import FRBC

_SCHEMA = """
CREATE TABLE IF NOT EXISTS s2_devices (
    site TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    details TEXT NOT NULL,
    control_type TEXT NOT NULL,
    connected INTEGER NOT NULL,
    last_seen REAL NOT NULL,
    measurement TEXT,
    forecast TEXT,
    control TEXT,
    instructions TEXT,
    PRIMARY KEY (site, resource_id)
);
"""
# Columns added after 0.3.0: a kept file gets them on opening.
_ADDED_COLUMNS = ("control", "instructions")


@dataclass(frozen=True)
class S2Device:
    resource_id: str
    details: dict[str, Any]
    control_type: str
    connected: bool
    last_seen: float
    measurement: dict[str, Any] | None  # the latest PowerMeasurement
    forecast: dict[str, Any] | None  # the latest PowerForecast
    control: dict[str, Any] | None = None  # FRBC: the s2-frbc entry's messages
    instructions: tuple[dict[str, Any], ...] = ()

    def summary(self) -> dict[str, Any]:
        """What a site's description shows of the device."""
        summary = {
            "resource_id": self.resource_id,
            "name": self.details.get("name"),
            "control_type": self.control_type,
            "available_control_types": self.details["available_control_types"],
            "connected": self.connected,
            "last_seen": iso_time(self.last_seen),
            "measurement": self.measurement,
            "forecast": self.forecast,
            "instructions": list(self.instructions),
        }
        if self.control is not None and self.control_type == FRBC:
            summary.update(frbc_summary(self.control))
        return summary


def frbc_summary(control: dict[str, Any]) -> dict[str, Any]:
    """An FRBC device's state in brief: how full, in what unit, which mode each actuator is in."""
    storage = control.get("storage-status")
    described = control.get("system-description")
    return {
        "fill_level": None if storage is None else storage["present_fill_level"],
        "fill_level_label": None if described is None
        else described["storage"].get("fill_level_label"),
        "fill_level_range": None if described is None
        else described["storage"]["fill_level_range"],
        "active_operation_modes": {
            status["actuator_id"]: status["active_operation_mode_id"]
            for status in control.get("actuator-statuses", [])
        },
    }  # fmt: skip


class S2Devices:
    def __init__(self, path: Path) -> None:
        # Measurements come often and a device says all again when it reconnects: commits need
        # no fsync each (measured: 400 → 28 µs per message), as in the job store.
        self._db = open_database(path, _SCHEMA, added_columns={"s2_devices": _ADDED_COLUMNS})
        # Nobody is connected to a service that just started.
        self._db.execute("UPDATE s2_devices SET connected = 0")

    def close(self) -> None:
        self._db.close()

    def described(
        self, site: str, resource_id: str, details: dict[str, Any], control_type: str, now: float
    ) -> None:
        self._db.execute(
            "INSERT INTO s2_devices (site, resource_id, details, control_type, connected, "
            "last_seen) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (site, resource_id) DO UPDATE SET "
            "details = excluded.details, control_type = excluded.control_type, connected = 1, "
            "last_seen = excluded.last_seen",
            (site, resource_id, json.dumps(details), control_type, now),
        )

    def reported(self, site: str, resource_id: str, message: dict[str, Any], now: float) -> None:
        column = "forecast" if message["message_type"] == "PowerForecast" else "measurement"
        self._db.execute(
            f"UPDATE s2_devices SET {column} = ?, last_seen = ? "  # column: one of two names
            "WHERE site = ? AND resource_id = ?",
            (json.dumps(message), now, site, resource_id),
        )

    def controlled(
        self, site: str, resource_id: str, entry: dict[str, Any] | None, now: float
    ) -> None:
        self._db.execute(
            "UPDATE s2_devices SET control = ?, last_seen = ? WHERE site = ? AND resource_id = ?",
            (None if entry is None else json.dumps(entry), now, site, resource_id),
        )

    def instructed(self, site: str, resource_id: str, records: list[dict[str, Any]]) -> None:
        self._db.execute(
            "UPDATE s2_devices SET instructions = ? WHERE site = ? AND resource_id = ?",
            (json.dumps(records), site, resource_id),
        )

    def disconnected(self, site: str, resource_id: str, now: float) -> None:
        self._db.execute(
            "UPDATE s2_devices SET connected = 0, last_seen = ? WHERE site = ? AND resource_id = ?",
            (now, site, resource_id),
        )

    def of_site(self, site: str) -> list[S2Device]:
        rows = self._db.execute(
            "SELECT resource_id, details, control_type, connected, last_seen, measurement, "
            "forecast, control, instructions FROM s2_devices WHERE site = ? ORDER BY resource_id",
            (site,),
        )
        return [
            S2Device(
                resource_id=row[0], details=json.loads(row[1]), control_type=row[2],
                connected=bool(row[3]), last_seen=row[4],
                measurement=None if row[5] is None else json.loads(row[5]),
                forecast=None if row[6] is None else json.loads(row[6]),
                control=None if row[7] is None else json.loads(row[7]),
                instructions=() if row[8] is None else tuple(json.loads(row[8])),
            )
            for row in rows
        ]  # fmt: skip
