"""The measurement behind bench/replan_latency.py (run by it; not part of the tests)."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_socket
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.flexems.coordinator import EVENT_PLAN_UPDATED
from tests.api.server import Server
from tests.integration.conftest import SOC_ENTITY, entry_for, set_inputs

CHANGES = int(os.environ.get("FLEXEMS_BENCH_CHANGES", "20"))


@pytest.fixture(autouse=True)
def _integrations(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Our integration, and real sockets to the add-on on loopback."""


@pytest.fixture
def addon(tmp_path: Path) -> Iterator[Server]:
    pytest_socket.enable_socket()
    running = Server(tmp_path / "addon")
    yield running
    running.stop()


async def _until(condition, timeout: float = 10.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `condition()` holds (checked every millisecond)."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise TimeoutError("the change did not reach the entities within 10 s")
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


async def test_replan_latency(hass: HomeAssistant, addon: Server) -> None:
    set_inputs(hass)
    entry = entry_for(addon)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    plans = async_capture_events(hass, EVENT_PLAN_UPDATED)
    latencies = []
    for i in range(CHANGES):
        await asyncio.sleep(1.2)  # past the debounce of the previous change
        percent = 20 if i % 2 else 80  # far off the plan: the drift trigger fires
        kwh = percent / 100 * 10
        hass.states.async_set(SOC_ENTITY, str(percent), {"unit_of_measurement": "%"})
        latencies.append(
            await _until(
                lambda kwh=kwh: (
                    coordinator.problem is not None
                    and coordinator.problem["flex-model"][0]["soc-at-start"] == f"{kwh:.4f} kWh"
                    and hass.states.get("sensor.battery_planned_energy_stored") is not None
                    and coordinator.last_update_success
                )
            )
        )
    await asyncio.sleep(1.2)
    before = len(plans)
    started = time.perf_counter()
    for percent in (30, 60, 40, 70, 55):  # a burst within the debounce time
        hass.states.async_set(SOC_ENTITY, str(percent), {"unit_of_measurement": "%"})
        await asyncio.sleep(0.05)
    await _until(
        lambda: (
            coordinator.problem is not None
            and coordinator.problem["flex-model"][0]["soc-at-start"] == "5.5000 kWh"
        )
    )
    total = time.perf_counter() - started
    await asyncio.sleep(1.5)
    burst_plans = len(plans) - before
    median = statistics.median(latencies)
    print()
    print(f"input change → entities, {CHANGES} changes: median {median:.3f} s, "
          f"worst {max(latencies):.3f} s (goal < 2 s)")  # fmt: skip
    print(f"burst of 5 changes in 0.2 s → all planned {total:.3f} s after the first, "
          f"{burst_plans} plans made (debounce 1 s)")  # fmt: skip
    assert max(latencies) < 2.0
