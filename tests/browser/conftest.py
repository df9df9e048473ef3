"""The demo home (the service and a real Home Assistant) once for the browser tests, and a
real browser (Debian's chromium, driven by Playwright's async API: the test run has an event
loop of its own) signed in through Home Assistant's login page. Screenshots go to
tests/browser/screenshots/ (git-ignored) for a person to look at."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_socket
from playwright.async_api import Page, async_playwright

from demo.run import PASSWORD, USER, DemoHome

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """The browser talks to Home Assistant over loopback."""


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHome]:
    pytest_socket.enable_socket()
    home = DemoHome(tmp_path_factory.mktemp("demo"))
    try:
        yield home.start()
    finally:
        home.stop()


@pytest.fixture
async def page(demo: DemoHome) -> AsyncIterator[Page]:
    """A page signed in to Home Assistant through its real login page."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        opened = await context.new_page()
        await opened.goto(demo.base)
        await opened.get_by_label("Username").fill(USER)
        await opened.get_by_label("Password", exact=True).fill(PASSWORD)
        await opened.get_by_role("button", name="Log in").click()
        # Signed in once the frontend shows its sidebar; then the demo's dashboard.
        await opened.locator("ha-sidebar").wait_for(timeout=60_000)
        await opened.goto(demo.dashboard)
        yield opened
        await browser.close()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
