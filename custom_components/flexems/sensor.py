"""Sensors: the plan now, its cost and savings, and per asset its planned power and SoC."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .community_sensors import community_sensors
from .const import (
    SUBENTRY_APPLIANCE,
    SUBENTRY_BATTERY,
    SUBENTRY_EV,
    SUBENTRY_HEAT_PUMP,
    SUBENTRY_PV,
)
from .coordinator import FlexEmsConfigEntry, FlexEmsCoordinator
from .entity import FlexEmsEntity, StepBoundaryEntity
from .plans import schedule, step_now
from .problem import heat_sink_name
from .s2_devices import CONTROL_TYPES, S2Entity, is_instructed, track_s2_devices
from .s2_sensors import instructed_sensors

PARALLEL_UPDATES = 0


# Attributes are kept small (the state machine and frontend carry them): at most this many
# intervals, which stays under 16 KiB as JSON. The whole plan is in `flexems.get_plan`.
@dataclass(frozen=True, kw_only=True)
class PlanSensorDescription(SensorEntityDescription):
    value_fn: Callable[[dict[str, Any]], Any]
    schedule_fn: Callable[[dict[str, Any]], list[float]] | None = None
    attributes_fn: Callable[[FlexEmsCoordinator], dict[str, Any]] | None = None


def plan_standing(coordinator: FlexEmsCoordinator) -> dict[str, Any]:
    """What the plan breaches, as "asset: constraint" (the site's limits without an asset), and
    how sure it is: with on/off devices the add-on may answer with the best plan its search
    found, within `optimality_gap` (%) of the best possible but not proven to be it."""
    solver = coordinator.data["solver"]
    return {
        "breached": [
            f"{s.asset}: {s.constraint}" if s.asset else s.constraint for s in coordinator.breaches
        ],
        "proven_optimal": solver["proven_optimal"],
        "optimality_gap": round(solver["mip_gap"] * 100, 2),
    }


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
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.ENUM,
        options=["optimal", "relaxed", "infeasible"],
        value_fn=lambda plan: plan["status"],
        attributes_fn=plan_standing,
    ),
    # Money: energy and peaks. Breach penalties are not paid by anyone; see "Constraint breaches".
    PlanSensorDescription(
        key="planned_cost",
        device_class=SensorDeviceClass.MONETARY,
        value_fn=lambda plan: round(plan["costs"]["energy_eur"] + plan["costs"]["peak_eur"], 4),
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
    # For watching the add-on's speed over time; most people never look.
    PlanSensorDescription(
        key="solve_time",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=3,
        value_fn=lambda plan: plan["solver"]["total_s"],
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


def _device(plan: dict[str, Any], name: str) -> dict[str, Any] | None:
    device: dict[str, Any] | None = plan["devices"].get(name)
    return device


def _series(name: str, key: str) -> Callable[[dict[str, Any]], list[float]]:
    """One planned series of a device in the plan."""

    def values(plan: dict[str, Any]) -> list[float]:
        series: list[float] = plan["devices"][name][key]
        return series

    return values


def _planned_state(
    power: Callable[[dict[str, Any]], list[float]],
    state: Callable[[dict[str, Any]], list[float]],
    keys: tuple[str, str],
    device_class: SensorDeviceClass,
    unit: str,
) -> tuple[PlanSensorDescription, ...]:
    """An asset with a state (energy stored, temperature): its planned power, its planned state
    now (with its schedule) and at the horizon's end, and when its power next changes."""
    now_key, end_key = keys
    return (
        _planned_power(power),
        PlanSensorDescription(
            key=now_key,
            device_class=device_class,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=unit,
            value_fn=_now_value(state),
            schedule_fn=state,
        ),
        PlanSensorDescription(
            key=end_key,
            device_class=device_class,
            native_unit_of_measurement=unit,
            value_fn=lambda plan: state(plan)[-1],
        ),
        PlanSensorDescription(
            key="next_change",
            device_class=SensorDeviceClass.TIMESTAMP,
            value_fn=lambda plan: next_change(power(plan), plan),
        ),
    )


def battery_sensors(name: str, data: Any) -> tuple[PlanSensorDescription, ...]:
    return _planned_state(
        _series(name, "power_kw"),
        _series(name, "soc_kwh"),
        ("planned_energy_stored", "energy_stored_at_horizon_end"),
        SensorDeviceClass.ENERGY_STORAGE,
        UnitOfEnergy.KILO_WATT_HOUR,
    )


def heat_pump_sensors(name: str, data: Any) -> tuple[PlanSensorDescription, ...]:
    return _planned_state(
        _series(name, "power_kw"),
        _series(heat_sink_name(name, data), "temperature_c"),
        ("planned_temperature", "temperature_at_horizon_end"),
        SensorDeviceClass.TEMPERATURE,
        UnitOfTemperature.CELSIUS,
    )


def appliance_sensors(name: str, data: Any) -> tuple[PlanSensorDescription, ...]:
    """Planned only while asked to run: otherwise no power is planned and there is no start."""

    def power(plan: dict[str, Any]) -> list[float]:
        device = _device(plan, name)
        return device["power_kw"] if device else [0.0] * len(plan["timestamps"])

    def start(plan: dict[str, Any]) -> datetime | None:
        device = _device(plan, name)
        if not device or not device.get("start"):
            return None
        return datetime.fromisoformat(device["start"])

    return (
        _planned_power(power),
        PlanSensorDescription(
            key="planned_start", device_class=SensorDeviceClass.TIMESTAMP, value_fn=start
        ),
    )


# Per subentry type: the device's kind and its sensors.
ASSET_SENSORS: dict[str, tuple[str, Callable[[str, Any], tuple[PlanSensorDescription, ...]]]] = {
    SUBENTRY_BATTERY: ("battery", battery_sensors),
    SUBENTRY_EV: ("EV", battery_sensors),
    SUBENTRY_HEAT_PUMP: ("heat pump", heat_pump_sensors),
    SUBENTRY_APPLIANCE: ("appliance", appliance_sensors),
}


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FlexEmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    coordinator = entry.runtime_data.coordinator
    async_add_entities(PlanSensor(coordinator, description) for description in SITE_SENSORS)
    async_add_entities([BreachesSensor(coordinator)])
    for subentry_id, subentry in entry.subentries.items():
        if subentry.subentry_type not in ASSET_SENSORS:
            continue
        kind, descriptions = ASSET_SENSORS[subentry.subentry_type]
        async_add_entities(
            (
                PlanSensor(coordinator, description, subentry.title, subentry_id, kind)
                for description in descriptions(subentry.title, subentry.data)
            ),
            config_subentry_id=subentry_id,
        )
    for subentry_id, subentry in entry.subentries.items():
        if subentry.subentry_type == SUBENTRY_PV:
            async_add_entities(
                [PvForecastSensor(coordinator, subentry.title, subentry_id)],
                config_subentry_id=subentry_id,
            )
    async_add_entities(
        PlannedEnergySensor(coordinator, key, series) for key, series in PLANNED_ENERGY.items()
    )
    track_s2_devices(
        entry, async_add_entities,
        lambda coordinator, resource_id: [
            S2PowerSensor(coordinator, resource_id, "s2_planned_power"),
            S2ControlTypeSensor(coordinator, resource_id, "s2_control_type"),
        ],
    )  # fmt: skip
    track_s2_devices(entry, async_add_entities, instructed_sensors, is_instructed)
    if entry.runtime_data.communities is not None:
        for subentry_id, sensor in community_sensors(entry.runtime_data.communities):
            async_add_entities([sensor], config_subentry_id=subentry_id)


class PlanSensor(FlexEmsEntity, StepBoundaryEntity, SensorEntity):
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
        description = self.entity_description
        plan = self.coordinator.data
        if description.attributes_fn is not None:
            return description.attributes_fn(self.coordinator)
        if description.schedule_fn is None:
            return None
        return {"schedule": schedule(plan, description.schedule_fn(plan))}


class BreachesSensor(FlexEmsEntity, SensorEntity):
    """How many constraints the plan breaches (per asset and constraint), with the list."""

    _attr_entity_category = EntityCategory.DIAGNOSTIC
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, coordinator: FlexEmsCoordinator) -> None:
        super().__init__(coordinator, "constraint_breaches")

    @property
    def native_value(self) -> int:
        return len(self.coordinator.breaches)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {"breaches": [summary.as_dict() for summary in self.coordinator.breaches]}


class PvForecastSensor(FlexEmsEntity, StepBoundaryEntity, SensorEntity):
    """The PV power the plan expects now, from the PV's solar forecast."""

    _attr_device_class = SensorDeviceClass.POWER
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = UnitOfPower.KILO_WATT
    _unrecorded_attributes = frozenset({"schedule"})

    def __init__(self, coordinator: FlexEmsCoordinator, asset: str, subentry_id: str) -> None:
        super().__init__(coordinator, "forecast_power", asset, subentry_id, kind="PV")
        self.subentry_id = subentry_id

    def _series(self) -> list[float] | None:
        series = self.coordinator.pv_forecasts.get(self.subentry_id)
        if series is None or len(series) != len(self.coordinator.data["timestamps"]):
            return None
        return series

    @property
    def native_value(self) -> float | None:
        series = self._series()
        index = step_now(self.coordinator.data, dt_util.utcnow())
        return None if series is None or index is None else series[index]

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        series = self._series()
        return None if series is None else {"schedule": schedule(self.coordinator.data, series)}


# Energy-dashboard sensors: energy the plans in force scheduled through the grid meter.
PLANNED_ENERGY: dict[str, str] = {
    "planned_grid_import": "import_kw",
    "planned_grid_export": "export_kw",
}


class PlannedEnergySensor(FlexEmsEntity, StepBoundaryEntity, RestoreSensor):
    """A meter of planned energy: at the end of each step it adds that step's planned energy,
    as planned by the plan in force during the step. Total increasing in kWh, so the energy
    dashboard can set it beside the real grid meter."""

    _attr_device_class = SensorDeviceClass.ENERGY
    _attr_state_class = SensorStateClass.TOTAL_INCREASING
    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR
    _attr_suggested_display_precision = 2
    _boundary_second = 0  # a step's energy is counted the moment it ends

    def __init__(self, coordinator: FlexEmsCoordinator, key: str, series: str) -> None:
        super().__init__(coordinator, key)
        self.series = series
        self._total = 0.0
        self._pending: tuple[datetime, float] | None = None  # (step end, planned kWh)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        if (last := await self.async_get_last_sensor_data()) is not None:
            value = last.native_value
            if isinstance(value, int | float | str | Decimal):
                self._total = float(value)
        self._remember_step()

    @property
    def native_value(self) -> float:
        return round(self._total, 4)

    @property
    def available(self) -> bool:
        return True  # a meter keeps its count while the add-on is away

    @callback
    def _handle_coordinator_update(self) -> None:
        self._remember_step()
        super()._handle_coordinator_update()

    async def _step_started(self, now: datetime) -> None:
        if self._pending is not None and self._pending[0] <= now:
            self._total += self._pending[1]
            self._pending = None
        self._remember_step()
        self.async_write_ha_state()

    @callback
    def _remember_step(self) -> None:
        """The current step's planned energy in the newest plan, counted when the step ends."""
        plan = self.coordinator.data
        if not self.coordinator.last_update_success or plan is None:
            return
        index = step_now(plan, dt_util.utcnow())
        if index is None:
            return
        ends = [*plan["timestamps"][1:], plan["end"]]
        begin = datetime.fromisoformat(plan["timestamps"][index])
        end = datetime.fromisoformat(ends[index])
        hours = (end - begin) / timedelta(hours=1)
        self._pending = (end, plan["site"][self.series][index] * hours)


class S2PowerSensor(S2Entity, StepBoundaryEntity, SensorEntity):
    """An S2 device's power in the plan now (kW, consumption positive), and its schedule for
    the plan card."""

    _attr_device_class = SensorDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.KILO_WATT
    _attr_state_class = SensorStateClass.MEASUREMENT
    _unrecorded_attributes = frozenset({"schedule"})

    @property
    def native_value(self) -> float | None:
        plan = self.coordinator.data
        planned = plan["devices"].get(self.resource_id) if plan else None
        index = step_now(plan, dt_util.utcnow()) if planned else None
        return None if planned is None or index is None else float(planned["power_kw"][index])

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        plan = self.coordinator.data
        planned = plan["devices"].get(self.resource_id) if plan else None
        return None if planned is None else {"schedule": schedule(plan, planned["power_kw"])}


class S2ControlTypeSensor(S2Entity, SensorEntity):
    """The S2 control type flexems selected for the device."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: FlexEmsCoordinator, resource_id: str, key: str) -> None:
        super().__init__(coordinator, resource_id, key)
        self._attr_options = [kind.lower() for kind in CONTROL_TYPES]

    @property
    def native_value(self) -> str | None:
        kind = self.s2_device.get("control_type")
        return str(kind).lower() if kind in CONTROL_TYPES else None
