"""The SIGTERM drain: readiness fails at once, the server's own handler runs after the drain."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from types import FrameType

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.lifecycle import begin_drain, install_drain


@pytest.fixture
def server_handler() -> Iterator[list[float]]:
    """Stands in for uvicorn's SIGTERM handler; records when it ran."""
    calls: list[float] = []

    def handler(_sig: int, _frame: FrameType | None) -> None:
        calls.append(time.monotonic())

    original = signal.signal(signal.SIGTERM, handler)
    yield calls
    signal.signal(signal.SIGTERM, original)


def test_sigterm_drains_before_the_server_handler_runs(server_handler: list[float]) -> None:
    app = FastAPI()
    app.state.draining = False
    uninstall = install_drain(app, 0.3)
    sent = time.monotonic()
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.05)
    assert app.state.draining and server_handler == []
    deadline = time.monotonic() + 5
    while not server_handler and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(server_handler) == 1 and server_handler[0] - sent >= 0.3
    uninstall()
    assert signal.getsignal(signal.SIGTERM) is not None
    os.kill(os.getpid(), signal.SIGTERM)  # the server's handler again, at once
    time.sleep(0.05)
    assert len(server_handler) == 2


def test_a_second_sigterm_skips_the_rest_of_the_drain(server_handler: list[float]) -> None:
    app = FastAPI()
    app.state.draining = False
    uninstall = install_drain(app, 30)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.05)
    assert server_handler == []
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(0.05)
    assert len(server_handler) == 1
    uninstall()


@pytest.mark.usefixtures("server_handler")
def test_no_drain_leaves_the_server_handler_alone() -> None:
    before = signal.getsignal(signal.SIGTERM)
    install_drain(FastAPI(), 0)
    assert signal.getsignal(signal.SIGTERM) is before


def test_readiness_fails_while_draining(client: TestClient) -> None:
    assert client.get("/readyz").status_code == 200
    begin_drain(client.app)  # type: ignore[arg-type]
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["detail"].startswith("draining")
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/livez").status_code == 200
