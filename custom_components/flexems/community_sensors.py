"""Sensors of the home's communities: the community's planned peak against the shared capacity
(both with schedules, so the plan card draws the aggregate against the limit), this home's part
at the peak, the signal it plans with now, and the round; a hosted community's members."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfPower
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .community import CommunityCoordinator, series_schedule, value_now
from .community_flows import CONF_COMMUNITY, SUBENTRY_COMMUNITY, SUBENTRY_COMMUNITY_HOST
from .const import DOMAIN

type View = dict[str, Any]  # a report (member) or an overview (host): both have these keys


@dataclass(frozen=True, kw_only=True)
class CommunitySensorDescription(SensorEntityDescription):
    value_fn: Callable[[View, dict[str, Any]], Any]
    attributes_fn: Callable[[View, dict[str, Any]], dict[str, Any]] | None = None


def _seconds(view: View) -> float:
    step = dt_util.parse_duration(view["resolution"])
    return step.total_seconds() if step else 900.0


def _now(view: View, values: list[Any]) -> Any:
    return value_now(view["start"], _seconds(view), values, dt_util.utcnow())


def _signal(membership: dict[str, Any], key: str) -> Any:
    """The value now of one of the signals the home plans with (None: not given)."""
    series = (membership.get("signals") or {}).get(key)
    if not series:
        return None
    step = dt_util.parse_duration(series["resolution"])
    seconds = step.total_seconds() if step else 900.0
    return value_now(series["start"], seconds, series["values"], dt_util.utcnow())


def _power(
    key: str,
    value_fn: Callable[[View, dict[str, Any]], Any],
    attributes_fn: Callable[[View, dict[str, Any]], dict[str, Any]],
) -> CommunitySensorDescription:
    return CommunitySensorDescription(
        key=key, native_unit_of_measurement=UnitOfPower.KILO_WATT,
        device_class=SensorDeviceClass.POWER, state_class=SensorStateClass.MEASUREMENT,
        value_fn=value_fn, attributes_fn=attributes_fn,
    )  # fmt: skip


SHARED_SENSORS = (
    _power(
        "community_peak",
        lambda view, _: max((v for v in view["aggregate_kw"] if v is not None),
                                     default=None),
        attributes_fn=lambda view, _: {
            "schedule": series_schedule(view["start"], _seconds(view), view["aggregate_kw"]),
        },
    ),
    _power(
        "community_capacity",
        lambda view, _: _now(view, view["capacity"]["consumption_kw"]),
        attributes_fn=lambda view, _: {
            "schedule": series_schedule(view["start"], _seconds(view),
                                        view["capacity"]["consumption_kw"]),
            "production_kw": _now(view, view["capacity"]["production_kw"]),
        },
    ),
)  # fmt: skip
MEMBER_SENSORS = (
    *SHARED_SENSORS,
    _power(
        "community_contribution",
        lambda view, _: view["contribution_at_peak_kw"],
        attributes_fn=lambda view, _: {"peak_at": view.get("peak_at")},
    ),
    CommunitySensorDescription(
        key="community_signal", native_unit_of_measurement="EUR/kWh", suggested_display_precision=3,
        value_fn=lambda _, membership: _signal(membership, "community-price") or 0.0,
        attributes_fn=lambda _, membership: {
            "consumption_limit_kw": _signal(membership, "community-consumption-capacity"),
            "production_limit_kw": _signal(membership, "community-production-capacity"),
        },
    ),
    CommunitySensorDescription(
        key="community_round",
        value_fn=lambda view, _: view["round"],
        attributes_fn=lambda view, membership: {
            "converged": view["status"] == "converged", "round_status": view["status"],
            "round_in_cycle": view["round_in_cycle"], "taking_part": membership.get("status"),
            "error": membership.get("error"),
        },
    ),
)  # fmt: skip
HOST_SENSORS = (
    *SHARED_SENSORS,
    CommunitySensorDescription(
        key="community_members", state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda view, _: len(view["members"]),
        attributes_fn=lambda view, _: {
            "members": [{"name": m["name"], "stale": m["stale"], "last_seen": m["last_seen"]}
                        for m in view["members"]],
            "round": view["round"], "converged": view["status"] == "converged",
            "breaches": len(view["breaches"]),
        },
    ),
)  # fmt: skip


def community_sensors(coordinator: CommunityCoordinator) -> list[tuple[str, CommunitySensor]]:
    """(subentry id, sensor) for every community subentry of the entry."""
    found = []
    for subentry_id, sub in coordinator.config_entry.subentries.items():
        if sub.subentry_type == SUBENTRY_COMMUNITY:
            found += [(subentry_id, CommunitySensor(coordinator, d, subentry_id, sub.title, None))
                      for d in MEMBER_SENSORS]  # fmt: skip
        elif sub.subentry_type == SUBENTRY_COMMUNITY_HOST:
            hosted = sub.data[CONF_COMMUNITY]
            found += [(subentry_id, CommunitySensor(coordinator, d, subentry_id, sub.title, hosted))
                      for d in HOST_SENSORS]  # fmt: skip
    return found


class CommunitySensor(CoordinatorEntity[CommunityCoordinator], SensorEntity):
    entity_description: CommunitySensorDescription
    _attr_has_entity_name = True
    _unrecorded_attributes = frozenset({"schedule", "members"})

    def __init__(
        self,
        coordinator: CommunityCoordinator,
        description: CommunitySensorDescription,
        subentry_id: str,
        title: str,
        hosted: str | None,
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._hosted = hosted  # the community id this add-on hosts; None: the home's membership
        self._attr_unique_id = f"{subentry_id}_{description.key}"
        self._attr_translation_key = description.key
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, subentry_id)},
            name=title,
            manufacturer="flexems",
            model="community (host)" if hosted else "community",
            entry_type=DeviceEntryType.SERVICE,
        )

    def _view(self) -> tuple[View, dict[str, Any]] | None:
        data = self.coordinator.data
        if data is None:
            return None
        if self._hosted is not None:
            overview = data.hosted.get(self._hosted)
            return None if overview is None else (overview, {})
        membership = data.membership
        report = (membership or {}).get("report")
        return None if not report or membership is None else (report, membership)

    @property
    def available(self) -> bool:
        return super().available and self._view() is not None

    @property
    def native_value(self) -> Any:
        view = self._view()
        return None if view is None else self.entity_description.value_fn(*view)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        view = self._view()
        if view is None or self.entity_description.attributes_fn is None:
            return None
        # The plan card charts a community's series only when configured to (`community`).
        return {"community": True, **self.entity_description.attributes_fn(*view)}
