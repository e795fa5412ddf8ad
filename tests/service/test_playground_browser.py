"""The playground at / in a real browser (headless Chromium over the DevTools protocol), served
by a real service process on the shipped checkpoint: a real page goes in through the file input,
both answers (the chosen budget, and full depth) come back with their cascade drawn, and the
page asks nothing of any host but the service."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import CHROMIUM, Browser, foreign
from tests.processes import ROOT, ServiceProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]

# Each run's state and what its chart shows, read in the page in one go.
RUNS = """(() => Object.fromEntries(['policy', 'full'].map((name) => {
  const run = document.querySelector(`.run[data-run="${name}"]`);
  const exits = [...run.querySelectorAll('svg.cascade g.exit')];
  return [name, {
    state: run.dataset.state || '',
    text: run.innerText,
    label: run.querySelector('.verdict .label')?.textContent ?? null,
    exits: exits.map((g) => g.dataset.exit),
    answered: exits.filter((g) => g.dataset.status === 'answered').map((g) => g.dataset.exit),
    skipped: exits.filter((g) => g.dataset.status === 'skipped').length,
    bars: run.querySelectorAll('svg.cascade .bar').length,
    ticks: run.querySelectorAll('svg.cascade .tick').length,
  }];
})))()"""
SETTLED = "['policy', 'full'].every((n) => ['done', 'error'].includes("
SETTLED += "document.querySelector(`.run[data-run='${n}']`).dataset.state))"


@pytest.fixture
def served(shipped_service: ServiceProcess, browser: Browser) -> tuple[ServiceProcess, Browser]:
    return shipped_service, browser


def invoice_page() -> Path:
    """A real invoice page from examples/ (examples/manifest.json records where it came from)."""
    manifest = json.loads((ROOT / "examples" / "manifest.json").read_text())
    names = [e["file"] for e in manifest if e["class"] == "invoice" and e["file"].endswith(".png")]
    assert names, "examples/ holds no invoice page"
    return ROOT / "examples" / names[0]


def upload(browser: Browser, selector: str, path: Path) -> None:
    """What choosing a file does: DevTools sets the input's files (and fires its change)."""
    root = browser.send("DOM.getDocument")["root"]["nodeId"]
    node = browser.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
    browser.send("DOM.setFileInputFiles", files=[str(path.resolve())], nodeId=node)


def full_page_screenshot(browser: Browser, path: Path) -> Path:
    size = browser.send("Page.getLayoutMetrics")["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = browser.send("Page.captureScreenshot", captureBeyondViewport=True, clip=clip)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def test_the_playground_classifies_a_page_and_draws_both_cascades(
    served: tuple[ServiceProcess, Browser], tmp_path: Path
) -> None:
    service, browser = served
    card = httpx.get(service.url + "/v1/model", timeout=30).json()
    browser.send("Log.enable")  # CSP violations are reported there
    browser.events.clear()
    browser.open(service.url + "/")
    browser.wait_for("document.querySelector('#model')?.textContent.includes(' exits')", 30)

    upload(browser, "#file", invoice_page())
    browser.wait_for("document.querySelector('#preview').naturalWidth > 0", 10)  # change fired
    browser.evaluate("document.querySelector('#policy').value = 'card'")  # per-exit thresholds
    budget = "document.querySelector('#budget')"
    browser.evaluate(f"{budget}.value = 6; {budget}.dispatchEvent(new Event('input'))")
    assert browser.evaluate("document.querySelector('#budget-value').textContent") == "2 s"
    browser.evaluate("document.querySelector('#submit').click()")
    browser.wait_for(SETTLED, 60)

    runs: dict[str, Any] = browser.evaluate(RUNS)
    for name, run in runs.items():
        assert run["state"] == "done", (name, run["text"])
        assert run["label"] in card["labels"], (name, run["label"])
        assert run["exits"] == card["exits"], name  # one row per exit, in cascade order
        assert len(run["answered"]) == 1, (name, run["answered"])
        assert run["bars"] == len(card["exits"]) - run["skipped"], name  # a bar where it ran
    assert "budget 2 s" in runs["policy"]["text"]  # the slider's budget reached the service
    assert card["policy"]["name"] in runs["policy"]["text"]  # and so did the policy chosen
    assert runs["policy"]["ticks"] >= 1  # the card's thresholds, drawn where they apply
    assert runs["full"]["answered"] == [card["exits"][-1]]  # full depth answers at the last exit
    assert runs["full"]["ticks"] == 0  # and has no threshold anywhere
    assert browser.evaluate("document.querySelector('#comparison')?.textContent ?? ''")

    requested = browser.requested()
    assert foreign(requested, service.url) == [], requested
    assert sum(u.endswith("/v1/classify") for u in requested) == 2, requested
    errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    assert errors == [], errors  # no script error along the way
    logged = [e["params"]["entry"] for e in browser.events if e.get("method") == "Log.entryAdded"]
    blocked = [e for e in logged if "Content Security Policy" in e.get("text", "")]
    assert blocked == [], blocked  # the page lives within its own CSP

    shot = full_page_screenshot(browser, tmp_path / "playground.png")
    assert shot.stat().st_size > 10_000
