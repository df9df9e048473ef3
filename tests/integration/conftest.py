"""A real Home Assistant core and a real flexems add-on server on a loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pynordpool
import pytest
import pytest_socket
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryData
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.flexems.channels import FOLLOWING
from custom_components.flexems.const import (
    CONF_CAPACITY_KWH,
    CONF_EFFICIENCY,
    CONF_POWER_KW,
    CONF_PRICE_ATTRIBUTE,
    CONF_PRICE_ENTITY,
    CONF_SOC_ENTITY,
    CONF_TOKEN,
    CONF_URL,
    DOMAIN,
    SUBENTRY_BATTERY,
)

from ..api.server import TOKEN, Server, clear_of_a_step_boundary
from .nord_pool_cloud import NOW, NordPoolCloud, spot


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load custom_components/flexems. A test with the recorder gets it
    first: the recorder's database must be ready before Home Assistant starts."""
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's form (contexts, ids and times left out)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """The integration talks to a real add-on over loopback."""


@pytest.fixture(autouse=True)
def _clear_of_a_step_boundary() -> None:
    """Plans start at the current quarter hour, and tests compare what an entity shows now
    with the plan's first step: a test begun in a quarter hour's last 30 s waits for the next
    (a hot water buffer's test once compared the next step's temperature with the first's)."""
    clear_of_a_step_boundary()


@pytest.fixture(scope="module")
def addon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pytest_socket.enable_socket()
    running = Server(tmp_path_factory.mktemp("addon"))
    yield running
    running.stop()


PRICE_ENTITY = "sensor.day_ahead_price"
SOC_ENTITY = "sensor.home_battery_soc"


def set_inputs(hass: HomeAssistant, prices: list[float] | None = None) -> None:
    """A price sensor with tomorrow's hourly prices (Nord Pool style) and a battery SoC."""
    from homeassistant.util import dt as dt_util

    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    values = prices or [0.30, 0.10, 0.10, 0.40, 0.45, 0.30] * 8
    items = [
        {"start": (start + i * dt_util.dt.timedelta(hours=1)).isoformat(),
         "end": (start + (i + 1) * dt_util.dt.timedelta(hours=1)).isoformat(),
         "value": value}
        for i, value in enumerate(values)
    ]  # fmt: skip
    hass.states.async_set(
        PRICE_ENTITY, str(values[0]), {"unit_of_measurement": "EUR/kWh", "prices": items}
    )
    hass.states.async_set(SOC_ENTITY, "50", {"unit_of_measurement": "%", "device_class": "battery"})


def entry_for(addon: Server, **options: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="flexems",
        data={CONF_URL: addon.base, CONF_TOKEN: TOKEN},
        options={CONF_PRICE_ENTITY: PRICE_ENTITY, CONF_PRICE_ATTRIBUTE: "prices", **options},
        subentries_data=[
            ConfigSubentryData(
                subentry_type=SUBENTRY_BATTERY,
                title="battery",
                unique_id=None,
                data={CONF_SOC_ENTITY: SOC_ENTITY, CONF_CAPACITY_KWH: 10, CONF_POWER_KW: 5,
                      CONF_EFFICIENCY: 90},
            )
        ],
    )  # fmt: skip


def add_asset(
    hass: HomeAssistant, entry: MockConfigEntry, kind: str, title: str, data: dict[str, Any]
) -> None:
    """Add an asset (a config subentry) to an entry already added to Home Assistant."""
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            **ConfigSubentryData(subentry_type=kind, title=title, unique_id=None, data=data)
        ),
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "addon"


@pytest.fixture
async def nord_pool(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[NordPoolCloud, MockConfigEntry]]:
    """The real Nord Pool integration, set up against the stand-in cloud (today published)."""
    freezer.move_to(NOW)
    await hass.config.async_set_time_zone("Europe/Stockholm")
    cloud = NordPoolCloud(spot, {date(2026, 5, 31), date(2026, 6, 1)})
    await cloud.start()
    monkeypatch.setattr(pynordpool, "API", cloud.url)
    entry = MockConfigEntry(
        domain="nordpool", title="Nord Pool", data={"areas": ["SE3", "SE4"], "currency": "EUR"}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield cloud, entry
    await hass.config_entries.async_unload(entry.entry_id)
    await cloud.stop()


SETPOINT = "input_number.battery_setpoint"


async def setpoint_number(hass: HomeAssistant) -> None:
    """A battery's power setpoint in W (a real input_number at 0 W) for applying plans."""
    from homeassistant.setup import async_setup_component

    assert await async_setup_component(
        hass, "input_number",
        {"input_number": {"battery_setpoint": {"min": -5000, "max": 5000, "step": 100,
                                               "unit_of_measurement": "W", "initial": 0}}},
    )  # fmt: skip


APPLY_SWITCH = "switch.battery_apply_plan"


async def battery_with_setpoint(
    hass: HomeAssistant, addon: Server, *, turn_on: bool = True, **control: str
) -> MockConfigEntry:
    """The seeded battery with a real input_number setpoint (W, 0 before) as its control,
    set up, its "Apply plan" switch turned on unless told otherwise."""
    from custom_components.flexems.const import CONF_CONTROL_ENTITY

    await setpoint_number(hass)
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, CONF_CONTROL_ENTITY: SETPOINT, **control}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if turn_on:
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": APPLY_SWITCH}, blocking=True
        )
        await hass.async_block_till_done()
    return entry


@pytest.fixture
def reloads(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The entries Home Assistant reloads from now on, in order."""
    done: list[str] = []
    original = hass.config_entries.async_reload

    async def counting(entry_id: str) -> bool:
        done.append(entry_id)
        return await original(entry_id)

    monkeypatch.setattr(hass.config_entries, "async_reload", counting)
    return done


async def settle(hass: HomeAssistant) -> None:
    """Wait until Home Assistant and flexems' short background tasks (applying a plan, a
    re-plan) are done; the listeners of the add-on's events channels run for the entry's
    lifetime, so `async_block_till_done(wait_background_tasks=True)` would wait for them
    forever."""
    while True:
        await hass.async_block_till_done()
        # Home Assistant keeps background tasks in a private set; tests may look.
        pending = [
            task
            for task in hass._background_tasks
            if not task.done() and FOLLOWING not in task.get_name()
        ]
        if not pending:
            return
        await asyncio.wait(pending)
