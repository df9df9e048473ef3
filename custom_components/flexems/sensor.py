"""Sensors: the plan now, its cost and savings, and per asset its planned power and SoC."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfEnergy, UnitOfPower, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import SUBENTRY_BATTERY, SUBENTRY_EV, SUBENTRY_HEAT_PUMP
from .coordinator import FlexEmsConfigEntry, FlexEmsCoordinator
from .entity import FlexEmsEntity
from .problem import building_name

PARALLEL_UPDATES = 0


def step_now(plan: dict[str, Any], now: datetime) -> int | None:
    """Index of the plan's step that contains `now`, or None outside the plan."""
    starts = [datetime.fromisoformat(t) for t in plan["timestamps"]]
    end = datetime.fromisoformat(plan["end"])
    if not starts or now < starts[0] or now >= end:
        return None
    return max(i for i, start in enumerate(starts) if start <= now)


def schedule(plan: dict[str, Any], values: list[float]) -> list[dict[str, Any]]:
    """[{start, end, value}] for charts, like Nord Pool's raw_today."""
    ends = [*plan["timestamps"][1:], plan["end"]]
    return [
        {"start": start, "end": end, "value": value}
        for start, end, value in zip(plan["timestamps"], ends, values, strict=True)
    ]


@dataclass(frozen=True, kw_only=True)
class PlanSensorDescription(SensorEntityDescription):
    value_fn: Callable[[dict[str, Any]], Any]
    schedule_fn: Callable[[dict[str, Any]], list[float]] | None = None


def _now_value(series: Callable[[dict[str, Any]], list[float]]) -> Callable[[dict[str, Any]], Any]:
    def value(plan: dict[str, Any]) -> Any:
        index = step_now(plan, dt_util.utcnow())
        return None if index is None else series(plan)[index]

    return value


def next_change(values: list[float], plan: dict[str, Any]) -> datetime | None:
    """When a planned series next changes from its value now (None: not within the plan)."""
    index = step_now(plan, dt_util.utcnow())
    if index is None:
        return None
    for i in range(index + 1, len(values)):
        if abs(values[i] - values[index]) > 1e-6:
            return datetime.fromisoformat(plan["timestamps"][i])
    return None


def cost_on_day(plan: dict[str, Any], days_ahead: int) -> float | None:
    """Planned energy cost on a local day (today, tomorrow), from the plan's cost per step."""
    day = (dt_util.now() + timedelta(days=days_ahead)).date()
    costs = plan["site"]["energy_cost_eur"]
    steps = [
        cost
        for start, cost in zip(plan["timestamps"], costs, strict=True)
        if dt_util.as_local(datetime.fromisoformat(start)).date() == day
    ]
    return round(sum(steps), 4) if steps else None


SITE_SENSORS: tuple[PlanSensorDescription, ...] = (
    PlanSensorDescription(
        key="plan_status",
        device_class=SensorDeviceClass.ENUM,
        options=["optimal", "relaxed", "infeasible"],
        value_fn=lambda plan: plan["status"],
    ),
    PlanSensorDescription(
        key="planned_cost",
        device_class=SensorDeviceClass.MONETARY,
        value_fn=lambda plan: plan["costs"]["total_eur"],
    ),
    PlanSensorDescription(
        key="planned_cost_today",
        device_class=SensorDeviceClass.MONETARY,
        value_fn=lambda plan: cost_on_day(plan, 0),
    ),
    PlanSensorDescription(
        key="planned_cost_tomorrow",
        device_class=SensorDeviceClass.MONETARY,
        value_fn=lambda plan: cost_on_day(plan, 1),
    ),
    PlanSensorDescription(
        key="planned_savings",
        device_class=SensorDeviceClass.MONETARY,
        value_fn=lambda plan: plan["costs"].get("savings_eur"),
    ),
    PlanSensorDescription(
        key="planned_grid_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        value_fn=_now_value(lambda plan: plan["site"]["net_power_kw"]),
        schedule_fn=lambda plan: plan["site"]["net_power_kw"],
    ),
)


def _planned_power(series: Callable[[dict[str, Any]], list[float]]) -> PlanSensorDescription:
    """An asset's planned power now, with its schedule."""
    return PlanSensorDescription(
        key="planned_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        value_fn=_now_value(series),
        schedule_fn=series,
    )


def battery_sensors(name: str) -> tuple[PlanSensorDescription, ...]:
    def device(plan: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = plan["devices"][name]
        return body

    return (
        _planned_power(lambda plan: device(plan)["power_kw"]),
        PlanSensorDescription(
            key="planned_energy_stored",
            device_class=SensorDeviceClass.ENERGY_STORAGE,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            value_fn=_now_value(lambda plan: device(plan)["soc_kwh"]),
            schedule_fn=lambda plan: device(plan)["soc_kwh"],
        ),
        PlanSensorDescription(
            key="energy_stored_at_horizon_end",
            device_class=SensorDeviceClass.ENERGY_STORAGE,
            native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
            value_fn=lambda plan: device(plan)["soc_kwh"][-1],
        ),
        PlanSensorDescription(
            key="next_change",
            device_class=SensorDeviceClass.TIMESTAMP,
            value_fn=lambda plan: next_change(device(plan)["power_kw"], plan),
        ),
    )


def heat_pump_sensors(name: str) -> tuple[PlanSensorDescription, ...]:
    def power(plan: dict[str, Any]) -> list[float]:
        values: list[float] = plan["devices"][name]["power_kw"]
        return values

    def temperature(plan: dict[str, Any]) -> list[float]:
        values: list[float] = plan["devices"][building_name(name)]["temperature_c"]
        return values

    return (
        _planned_power(power),
        PlanSensorDescription(
            key="planned_temperature",
            device_class=SensorDeviceClass.TEMPERATURE,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfTemperature.CELSIUS,
            value_fn=_now_value(temperature),
            schedule_fn=temperature,
        ),
    )


# Per subentry type: the device's kind and its sensors.
ASSET_SENSORS: dict[str, tuple[str, Callable[[str], tuple[PlanSensorDescription, ...]]]] = {
    SUBENTRY_BATTERY: ("battery", battery_sensors),
    SUBENTRY_EV: ("EV", battery_sensors),
    SUBENTRY_HEAT_PUMP: ("heat pump", heat_pump_sensors),
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    async_add_entities(PlanSensor(coordinator, description) for description in SITE_SENSORS)
    for subentry_id, subentry in entry.subentries.items():
        if subentry.subentry_type not in ASSET_SENSORS:
            continue
        kind, descriptions = ASSET_SENSORS[subentry.subentry_type]
        async_add_entities(
            (
                PlanSensor(coordinator, description, subentry.title, subentry_id, kind)
                for description in descriptions(subentry.title)
            ),
            config_subentry_id=subentry_id,
        )


class PlanSensor(FlexEmsEntity, SensorEntity):
    entity_description: PlanSensorDescription
    # Schedules are for charts now, not history: keep them out of the recorder.
    _unrecorded_attributes = frozenset({"schedule"})

    def __init__(
        self,
        coordinator: FlexEmsCoordinator,
        description: PlanSensorDescription,
        asset: str | None = None,
        subentry_id: str | None = None,
        kind: str = "battery",
    ) -> None:
        super().__init__(coordinator, description.key, asset, subentry_id, kind)
        self.entity_description = description
        if description.device_class is SensorDeviceClass.MONETARY:
            self._attr_native_unit_of_measurement = coordinator.hass.config.currency

    @property
    def native_value(self) -> Any:
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if self.entity_description.schedule_fn is None:
            return None
        plan = self.coordinator.data
        return {"schedule": schedule(plan, self.entity_description.schedule_fn(plan))}
