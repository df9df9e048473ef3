"""The demo home in a real browser: the config flow's first form and its wrong-token error, the
plan card with every asset and the now line, a wrong card option shown on the card, the energy
dashboard's grid on the planned meters, "Apply plan" switched in the UI reaching the battery,
the add-on's status page through its sign-in."""

from __future__ import annotations

import asyncio
import re
import time

from playwright.async_api import Locator, Page, expect

from demo.run import DemoHome

from .conftest import screenshot


async def test_the_config_flow_asks_for_the_add_on_and_refuses_a_wrong_token(
    page: Page, demo: DemoHome
) -> None:
    await page.goto(f"{demo.base}/config/integrations/dashboard/add?domain=flexems")
    await page.get_by_role("button", name="OK").click(timeout=60_000)  # "set up flexems?"
    # The form's fields are slotted into the dialog, not inside its role=dialog element.
    dialog = page.locator("dialog-data-entry-flow")
    await expect(page.get_by_text("Connect to the flexems add-on")).to_be_visible(timeout=30_000)
    url = dialog.get_by_role("textbox", name="URL")
    await expect(url).to_have_value("http://local-flexems:8099")  # the add-on's own address
    # The demo's service under another name (the same address is refused as set up already).
    await url.fill(demo.addon_url.replace("127.0.0.1", "localhost"))
    await dialog.get_by_role("textbox", name="API token").fill("not the token")
    await dialog.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text("The add-on refused this token.")).to_be_visible(timeout=30_000)
    await screenshot(page, "config-flow-wrong-token")
    await dialog.get_by_role("textbox", name="API token").fill(demo.token)
    await dialog.get_by_role("button", name="Submit").click()
    await expect(page.get_by_text("This add-on is already set up.")).to_be_visible(timeout=30_000)


async def test_the_plan_card_draws_every_asset_and_the_now_line(page: Page, demo: DemoHome) -> None:
    card = page.locator("flexems-plan-card")
    # Attached, not "visible": a series that is flat all day (the car away) has no height.
    await expect(card.locator("path.series").first).to_be_attached(timeout=60_000)
    charted = await card.locator("path.series").evaluate_all(
        "paths => paths.map(p => p.dataset.entity)"
    )
    for asset in ("home_battery", "car", "heat_pump"):
        assert any(asset in entity for entity in charted), (asset, charted)
    await expect(card.locator("line.now").first).to_be_attached()
    # Optimal, or relaxed when the simulated home starts off its comfort band or a target.
    await expect(card.locator(".status")).to_have_text(re.compile("optimal|relaxed", re.I))
    await screenshot(page, "plan-card")


async def test_a_wrong_card_option_is_shown_on_the_card(page: Page, demo: DemoHome) -> None:
    await page.goto(f"{demo.base}/flexems-demo/card-check")
    error = page.locator("flexems-plan-card .error")
    await expect(error).to_contain_text("hours must be a positive number, not -3", timeout=60_000)
    await screenshot(page, "card-error")


async def test_the_energy_dashboard_grid_uses_the_planned_meters(
    page: Page, demo: DemoHome
) -> None:
    await page.goto(f"{demo.base}/config/energy")
    await page.get_by_role("button", name="Edit grid connection").click(timeout=60_000)
    await expect(page.get_by_text("Configure grid connection")).to_be_visible()
    # The import and export pickers hold flexems' planned meters (as the accessibility tree
    # has them: the pickers' texts are slotted, out of reach of a text filter).
    await expect(page.get_by_role("dialog")).to_match_aria_snapshot(
        """
        - text: Energy imported from grid
        - listitem:
          - text: Planned grid import flexems planner
        - text: /Energy exported to grid/
        - listitem:
          - text: Planned grid export flexems planner
        """
    )
    await screenshot(page, "energy-grid")


async def planned_battery_kw(page: Page) -> float:
    """The plan's battery power now, as the frontend has it (it may be 0 at this hour)."""
    state = await page.evaluate(
        "document.querySelector('home-assistant').hass.states"
        "['sensor.home_battery_planned_power'].state"
    )
    return float(state)


async def setpoint_follows_the_plan(page: Page, setpoint: Locator, seconds: float) -> str:
    """ "" when the setpoint shows the plan's battery power within `seconds`, else what the
    page showed last (the values and the Apply plan switch's state), to say why."""
    deadline = time.monotonic() + seconds
    while True:
        value = await setpoint.input_value()
        planned = await planned_battery_kw(page)
        if value and abs(float(value) - planned) < 0.006:  # its step 0.01
            return ""
        if time.monotonic() > deadline:
            switch = await page.evaluate(
                "document.querySelector('home-assistant').hass.states"
                "['switch.home_battery_apply_plan']"
            )
            return f"setpoint {value!r}, planned {planned} kW, apply plan switch: {switch}"
        await asyncio.sleep(0.5)


async def test_apply_plan_switched_in_the_ui_reaches_the_battery(
    page: Page, demo: DemoHome
) -> None:
    setpoint = (
        page.locator("hui-entities-card")
        .filter(has_text="The simulated home")
        .locator("hui-number-entity-row", has_text="Demo battery setpoint")
        .locator("input")
    )
    assert not (why := await setpoint_follows_the_plan(page, setpoint, 60)), why
    toggle = (
        page.locator("hui-toggle-entity-row", has_text="Home battery Apply plan")
        .locator("ha-switch, ha-entity-toggle")
        .first
    )
    await toggle.click()  # off: flexems leaves the battery alone, a person may set it
    manual = "2" if await planned_battery_kw(page) == 0 else "0"
    await setpoint.fill(manual)
    await setpoint.press("Enter")
    await expect(setpoint).to_have_value(manual, timeout=30_000)
    await screenshot(page, "apply-plan-off")
    await toggle.click()  # on again: the plan's setpoint comes back
    assert not (why := await setpoint_follows_the_plan(page, setpoint, 30)), why


async def test_the_add_on_status_page_behind_its_login(page: Page, demo: DemoHome) -> None:
    await page.goto(demo.addon_url)
    await page.get_by_label("API token").fill("not the token")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("body")).to_contain_text("not this service's token")
    await page.get_by_label("API token").fill(demo.token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="flexems optimizer")).to_be_visible()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The home Home Assistant keeps in the add-on, with its plan.
    await expect(page.get_by_role("heading", name="Sites")).to_be_visible()
    home = page.get_by_role("row").filter(has=page.get_by_text("home", exact=True))
    await expect(home).to_contain_text(re.compile("optimal|relaxed"))
    await screenshot(page, "add-on-status")
