"""/docs and /redoc in a real browser (headless Chromium over the DevTools protocol), served by
a real service process: the pages render the API and ask nothing of any host but the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import CHROMIUM, Browser, foreign
from tests.processes import ServiceProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]


@pytest.fixture
def served(shipped_service: ServiceProcess, browser: Browser) -> tuple[ServiceProcess, Browser]:
    return shipped_service, browser


@pytest.mark.parametrize(
    ("page", "rendered"),
    [
        ("/docs", "document.querySelectorAll('.opblock').length"),
        ("/redoc", "document.querySelectorAll('[data-section-id]').length"),
    ],
)
def test_the_docs_render_and_request_nothing_outside_the_service(
    served: tuple[ServiceProcess, Browser], page: str, rendered: str, tmp_path: Path
) -> None:
    service, browser = served
    browser.events.clear()
    browser.open(service.url + page)
    assert browser.wait_for(rendered) >= 5  # the operations are on the page
    text = browser.evaluate("document.body.innerText")
    assert "/v1/classify" in text and "/v1/extract" in text
    requested = browser.requested()
    assert any(u.endswith("/openapi.json") for u in requested)
    assert foreign(requested, service.url) == [], requested
    shot = browser.screenshot(tmp_path / f"{page.strip('/')}.png")
    assert shot.stat().st_size > 10_000
