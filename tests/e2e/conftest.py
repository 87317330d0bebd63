"""Browsers for the end-to-end tests that drive pages (the admins, the storefront).

The system's Chromium (/usr/bin/chromium with /usr/bin/chromedriver: .ci/run installs
Debian's when they are missing; nothing is downloaded), headless, each browser with cookies
of its own. Without them a browser test is skipped, saying why, unless
``REQUIRE_BROWSER=1`` (CI), which makes that a failure. Each step a test names is saved as
a screenshot under var/screenshots/<test>/ (never committed; docs/storefront.md shows some).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

SCREENSHOTS = Path(
    os.environ.get("SOUK_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "var" / "screenshots"
)
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[Callable[..., WebDriver]]:
    """Starts headless Chromium browsers (``browser(phone=True)``: a 390x844 phone screen;
    ``browser(javascript=False)``: one that runs no script); quits them after the test."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:
        message = f"no {' and no '.join(missing)}: apt-get install chromium chromium-driver"
        if os.environ.get("REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    started: list[WebDriver] = []

    def start(*, phone: bool = False, javascript: bool = True) -> WebDriver:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        if not javascript:
            options.add_experimental_option(
                "prefs", {"profile.managed_default_content_settings.javascript": 2}
            )
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
            options.add_argument(argument)
        options.add_argument("--window-size=1280,900")
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
        driver.set_page_load_timeout(30)
        started.append(driver)
        if phone:
            # The viewport a phone gives a page (CSS pixels), touch and the meta viewport
            # honoured as on the device.
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
            )
        return driver

    yield start
    for driver in started:
        driver.quit()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[WebDriver, str], None]:
    """Saves what a browser shows as var/screenshots/<test>/<step>.png."""
    folder = SCREENSHOTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def save(driver: WebDriver, step: str) -> None:
        path = folder / f"{step}.png"
        driver.save_screenshot(str(path))
        print(f"screenshot: {path}")

    return save
