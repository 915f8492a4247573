"""The report works in a real browser, offline: no errors, working filter and search.

Uses Debian's Chromium through playwright (``apt-get install chromium``); set
``COMPAT_NO_BROWSER=1`` to skip explicitly where no browser can be installed.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

from reports.render import OUT, render
from tests.test_report import write_fixtures

CHROMIUM = pathlib.Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

VISIBLE = "els => els.filter(e => e.offsetParent !== null).length"


@pytest.fixture
def report(tmp_path: pathlib.Path) -> pathlib.Path:
    """The report of the real results when there are some, else of small fixtures; rendered in
    the test's own folder, as tests running at once in pytest-xdist workers would write the same
    file."""
    if (OUT / "results" / "conformance.json").exists():
        return render(OUT, tmp_path / "report")
    source = tmp_path / "results"
    return render(source, tmp_path / "report", write_fixtures(source))


@pytest.fixture
def page(report: pathlib.Path) -> Iterator[Page]:
    """A headless Chromium page showing the report; fails on any error or network request."""
    if os.environ.get("COMPAT_NO_BROWSER") == "1":
        pytest.skip("COMPAT_NO_BROWSER=1: browser test disabled explicitly")
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: install it with `apt-get install -y chromium` "
            "or set COMPAT_NO_BROWSER=1 to skip this test explicitly"
        )
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=ARGS, timeout=TIMEOUT_MS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on(
                "request", lambda r: None if r.url.startswith("file:") else requests.append(r.url)
            )
            page.goto(report.as_uri())
            yield page
            assert errors == [], errors
            assert requests == [], requests
        finally:
            browser.close()


def test_filter_and_search(page: Page) -> None:
    rows = page.locator("tr[data-row][id^='scenario-']")
    total = rows.count()
    same = page.locator("tr[data-row][id^='scenario-'][data-diff='0']").count()
    assert total > 0
    assert rows.evaluate_all(VISIBLE) == total

    page.check("#only-diff")
    assert rows.evaluate_all(VISIBLE) == total - same
    hidden = page.locator("[data-row][data-diff='0']")
    assert hidden.evaluate_all(VISIBLE) == 0
    assert "rows shown" in page.inner_text("#shown")
    page.uncheck("#only-diff")
    assert rows.evaluate_all(VISIBLE) == total

    row_id = rows.first.get_attribute("id")
    assert row_id is not None
    ident = row_id.removeprefix("scenario-")
    page.fill("#search", ident)
    matching = rows.evaluate_all(
        "(els, id) => els.filter(e => e.offsetParent !== null)"
        ".every(e => e.dataset.search.toLowerCase().includes(id.toLowerCase()))",
        ident,
    )
    assert matching
    assert page.locator(f"tr[id='scenario-{ident}']").is_visible()
    page.fill("#search", "no-such-row-anywhere")
    assert page.locator("[data-row]").evaluate_all(VISIBLE) == 0
    assert page.locator("#scenarios .empty").is_visible()
    page.fill("#search", "")
    assert rows.evaluate_all(VISIBLE) == total


def test_screenshot_and_mobile_width(page: Page, tmp_path: pathlib.Path) -> None:
    # The first screen: verdicts and the start of the feature list (the full page is too tall).
    # In the test's folder: tests leave reports/out to the commands that write the report.
    screenshot = tmp_path / "compatibility.png"
    page.set_viewport_size({"width": 1280, "height": 1200})
    page.screenshot(path=str(screenshot))
    assert screenshot.stat().st_size > 10_000
    page.set_viewport_size({"width": 390, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
