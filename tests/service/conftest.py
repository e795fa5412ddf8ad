"""A tiny random checkpoint saved by the real models/ code, a counting OCR engine, and apps
built around them: every service test runs the real cascade in milliseconds."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from fastapi.testclient import TestClient
from PIL import Image

from models.checkpoint import load_checkpoint, save_checkpoint
from models.decoder_checkpoint import load_decoder
from models.multiexit import MultiExitLayoutLMv3
from models.ocr import OcrWord
from models.pretrained import WORD_EMBEDDINGS
from models.runtime import Cascade
from service.app import create_app
from service.engine import Engine
from service.ocr_cache import CachedOcr
from service.settings import Settings
from tests.browser import Browser
from tests.models.conftest import tiny_config
from tests.processes import ServiceProcess

TOKEN = "s3cret-admin-token-for-tests"
SIGNING_KEY = "signing-key-for-tests-shared-by-the-replicas"
LATENCY = {
    "ocr": 0.2,
    "stages": {
        "embed": 0.001,
        "emb.vision_avg": 0.0001,
        "vision.1": 0.002,
        "vision.2": 0.002,
        "vision.3": 0.002,
        "emb.text_avg": 0.002,
        "emb.concat": 0.0001,
        "mm.1": 0.003,
        "mm.2": 0.003,
        "mm.3": 0.003,
    },
}
# Cheaper points are less accurate, as on a real card; tau 0.0 always exits at the first
# vision exit, tau 1.1 never exits early (the tiny random model is never that confident).
OPERATING_POINTS: list[dict[str, Any]] = [
    {"policy": {"name": "full_depth"}, "accuracy": 0.96, "ocr_skip_rate": 0.0, "encoder_s": 0.01},
    {"policy": {"name": "global", "tau": 0.0}, "accuracy": 0.4, "ocr_skip_rate": 1.0,
     "encoder_s": 0.0011, "mean_exit_layer": 0.0},
    {"policy": {"name": "global", "tau": 0.5}, "accuracy": 0.7, "ocr_skip_rate": 0.6,
     "encoder_s": 0.005, "mean_exit_layer": 1.5},
    {"policy": {"name": "per_exit", "taus": {"vision.3": 0.9, "mm.1": 0.8}}, "accuracy": 0.9,
     "ocr_skip_rate": 0.2, "encoder_s": 0.009, "mean_exit_layer": 2.0},
    {"policy": {"name": "global", "tau": 1.1}, "accuracy": 0.95, "ocr_skip_rate": 0.0,
     "encoder_s": 0.017, "mean_exit_layer": 3.0},
]  # fmt: skip


@pytest.fixture(scope="session")
def shipped_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One `python -m service` on the shipped checkpoint with its defaults (as `make serve`
    runs it), shared by the tests that only read from it (quick start, docs in a browser)."""
    proc = ServiceProcess(tmp_path_factory.mktemp("shipped") / "service.log")
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One headless Chromium for the browser tests (docs, playground); each test opens its page
    and clears the recorded events first."""
    logs = tmp_path_factory.mktemp("browser")
    chromium = Browser(logs / "profile", logs / "chromium.log")
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def checkpoint_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt"))


def save_tiny_checkpoint(folder: Path) -> Path:
    """The tiny random checkpoint, saved into folder (for tests outside tests/service)."""
    torch.manual_seed(0)
    model = MultiExitLayoutLMv3(tiny_config(num_labels=16)).eval()
    save_checkpoint(
        model,
        folder,
        name="tiny-test",
        version="0.0.1",
        temperatures=dict.fromkeys(model.config.exit_names(), 1.0),
        latency=LATENCY,
        operating_points=OPERATING_POINTS,
        policy={"name": "global", "tau": 1.1},
        thresholds={},
    )
    return folder


class FakeOcr:
    """Counts calls; optionally blocks until released (to hold a worker busy)."""

    name = "fake"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls, self.delay_s = 0, delay_s
        self.release = threading.Event()
        self.release.set()

    def recognize(self, image: Image.Image) -> list[OcrWord]:
        self.calls += 1
        self.release.wait(10)
        time.sleep(self.delay_s)
        return [OcrWord("Invoice", (10, 10, 80, 30), 0.9), OcrWord("Total", (10, 50, 60, 70), 0.9)]


def make_settings(checkpoint: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "checkpoint": checkpoint,
        "device": "cpu",
        "workers": 2,
        "queue_size": 4,
        "warmup_requests": 1,
        "admin_token": TOKEN,
        "config_signing_key": SIGNING_KEY,
        **overrides,
    }
    return Settings(**values)


def loader_for(ocr: FakeOcr) -> Callable[[Settings], Engine]:
    def load(settings: Settings) -> Engine:
        model, card = load_checkpoint(settings.checkpoint)
        cached = CachedOcr(ocr, settings.redis_url, settings.ocr_cache_ttl_s, settings.signer())
        words = model.state_dict()[WORD_EMBEDDINGS]
        decoder = load_decoder(settings.checkpoint, card, words)
        return Engine(Cascade.from_card(model, card), card, cached, settings, "cpu", decoder)

    return load


def wait_ready(client: TestClient, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.02)
    raise AssertionError(f"not ready: {client.get('/readyz').json()}")


@pytest.fixture
def fake_ocr() -> FakeOcr:
    return FakeOcr()


@pytest.fixture
def client_factory(checkpoint_dir: Path, fake_ocr: FakeOcr) -> Iterator[Callable[..., TestClient]]:
    """Builds a started, ready app with settings overrides; closes every one at the end."""
    clients: list[TestClient] = []

    def make(
        ocr: FakeOcr | None = None,
        ready: bool = True,
        checkpoint: Path | None = None,
        **overrides: Any,
    ) -> TestClient:
        settings = make_settings(checkpoint or checkpoint_dir, **overrides)
        app = create_app(settings, loader_for(ocr or fake_ocr))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        if ready:
            wait_ready(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(client_factory: Callable[..., TestClient]) -> TestClient:
    return client_factory()


def png(size: tuple[int, int] = (77, 100), color: int = 200) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, color).save(buf, "PNG")
    return buf.getvalue()


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:docexit:problem:") and body["title"] and body["detail"]
    return body
