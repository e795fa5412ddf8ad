"""Real server processes for the load tests: docexit (`python -m service`) and the plain
baseline (`python -m loadtests.baseline_app`) on free ports, started once per session, and a
few generated pages."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadtests import servers
from loadtests.pages import BenchPage, make_pages

CLASSES = ("letter", "invoice", "email")
needs_checkpoint = pytest.mark.skipif(
    not (servers.CHECKPOINT / "card.json").exists(), reason="no shipped checkpoint"
)
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="tesseract is not installed"
)


@dataclass
class Running:
    docexit: str
    baseline: str
    token: str
    logs: Path
    noshadow: str  # docexit with DOCEXIT_SHADOW_RATE=0
    batched: str  # that, batching (DOCEXIT_MAX_BATCH)


@pytest.fixture(scope="session")
def pages_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench-pages")


@pytest.fixture(scope="session")
def pages(pages_root: Path) -> list[BenchPage]:
    return make_pages(pages_root, 1, classes=CLASSES)


@pytest.fixture(scope="session")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The servers, started together (as the bench starts them), 2 workers each."""
    logs = tmp_path_factory.mktemp("server-logs")
    token = secrets.token_urlsafe(24)
    started = [
        servers.docexit(2, 16, token, logs),
        servers.baseline(2, logs),
        servers.docexit(2, 16, token, logs, "noshadow", {"DOCEXIT_SHADOW_RATE": "0"}),
        servers.docexit(
            2, 16, token, logs, "batched", {"DOCEXIT_SHADOW_RATE": "0", "DOCEXIT_MAX_BATCH": "4"}
        ),
    ]
    try:
        for s in started:
            s.wait_ready(timeout_s=240)
        urls = [s.url for s in started]
        yield Running(urls[0], urls[1], token, logs, urls[2], urls[3])
    finally:
        for s in started:
            s.stop()
