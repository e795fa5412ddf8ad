"""The SIGTERM drain: readiness fails at once while requests are still served, the server's own
handler runs only after the drain, and on a real uvicorn server the requests in flight then
finish while new connections are refused."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image

from models.ocr import OcrWord
from service.app import create_app
from service.lifecycle import begin_drain, install_drain
from service.state import state_of
from tests.service.conftest import FakeOcr, loader_for, make_settings, png

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServerHandler:
    """Stands in for uvicorn's SIGTERM handler: records each call, and lets a test wait for one."""

    calls: list[tuple[int, float, bool]] = field(default_factory=list)  # sig, when, main thread?
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, sig: int, _frame: FrameType | None) -> None:
        with self.changed:
            on_main = threading.current_thread() is threading.main_thread()
            self.calls.append((sig, time.monotonic(), on_main))
            self.changed.notify_all()

    def wait_calls(self, n: int, timeout_s: float = 5.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.calls) >= n, timeout_s)


@pytest.fixture
def server_handler() -> Iterator[ServerHandler]:
    handler = ServerHandler()
    original = signal.signal(signal.SIGTERM, handler)
    yield handler
    signal.signal(signal.SIGTERM, original)


def installed() -> object:
    """The process's SIGTERM handler now."""
    return signal.getsignal(signal.SIGTERM)


def drain_timers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]


def join_all(threads: list[threading.Thread], timeout_s: float = 5.0) -> None:
    for t in threads:
        t.join(timeout_s)
        assert not t.is_alive(), t


@dataclass
class State:
    """What the drain sets (service.lifecycle.Drainable): the flag /readyz reads."""

    draining: bool = False


def test_sigterm_drains_before_the_server_handler_runs(server_handler: ServerHandler) -> None:
    state = State()
    before = drain_timers()
    uninstall = install_drain(state, 0.3)
    assert installed() is not server_handler  # wrapped
    sent = time.monotonic()
    signal.raise_signal(signal.SIGTERM)  # returns once the Python handler has run
    assert state.draining  # readiness fails at once ...
    assert server_handler.calls == []  # ... but the server is not told yet
    timers = [t for t in drain_timers() if t not in before]
    assert len(timers) == 1
    assert server_handler.wait_calls(1)
    sig, when, on_main = server_handler.calls[0]
    assert sig == signal.SIGTERM and when - sent >= 0.3 and not on_main  # the drain timer's
    join_all(timers)
    assert len(server_handler.calls) == 1  # handed over once only
    uninstall()
    assert installed() is server_handler  # exactly the server's handler back
    signal.raise_signal(signal.SIGTERM)  # now the server's handler, at once, on the main thread
    assert len(server_handler.calls) == 2 and server_handler.calls[1][2]


def test_a_second_sigterm_skips_the_rest_of_the_drain(server_handler: ServerHandler) -> None:
    state = State()
    before = drain_timers()
    uninstall = install_drain(state, 30)
    signal.raise_signal(signal.SIGTERM)
    timers = [t for t in drain_timers() if t not in before]
    assert state.draining and server_handler.calls == [] and len(timers) == 1
    sent = time.monotonic()
    signal.raise_signal(signal.SIGTERM)
    assert len(server_handler.calls) == 1  # at once, not 30 s later
    sig, when, on_main = server_handler.calls[0]
    assert sig == signal.SIGTERM and when - sent < 5 and on_main
    join_all(timers)  # the drain's timer was cancelled: it will not hand over a second time
    assert len(server_handler.calls) == 1
    uninstall()
    assert installed() is server_handler


def test_uninstalling_during_the_drain_cancels_the_hand_over(
    server_handler: ServerHandler,
) -> None:
    state = State()
    before = drain_timers()
    uninstall = install_drain(state, 30)
    signal.raise_signal(signal.SIGTERM)
    timers = [t for t in drain_timers() if t not in before]
    assert len(timers) == 1
    uninstall()
    join_all(timers)
    assert server_handler.calls == []
    assert installed() is server_handler


@pytest.mark.usefixtures("server_handler")
def test_no_drain_leaves_the_server_handler_alone() -> None:
    before = signal.getsignal(signal.SIGTERM)
    state = State()
    uninstall = install_drain(state, 0)
    assert installed() is before
    uninstall()
    assert installed() is before
    # Off the main thread (an in-process test client's lifespan) it is a no-op too.
    done: list[Callable[[], None]] = []
    thread = threading.Thread(target=lambda: done.append(install_drain(state, 5)))
    thread.start()
    thread.join(5)
    assert done and installed() is before
    signal.raise_signal(signal.SIGTERM)
    assert not state.draining


def test_without_a_server_handler_the_drain_ends_the_process() -> None:
    """SIG_DFL before: after the drain the process dies of the SIGTERM, as it would have."""
    script = (
        "import signal, sys, threading\n"
        "from types import SimpleNamespace\n"
        "from service.lifecycle import install_drain\n"
        "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "state = SimpleNamespace(draining=False)\n"
        "install_drain(state, 0.2)\n"
        "signal.raise_signal(signal.SIGTERM)\n"
        "print('draining', state.draining, flush=True)\n"
        "threading.Event().wait(1.5)\n"
        "print('survived', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -signal.SIGTERM, done.stderr
    assert done.stdout.split() == ["draining", "True"]


def test_readiness_fails_while_draining(client: TestClient) -> None:
    assert client.get("/readyz").status_code == 200
    begin_drain(state_of(client.app))  # type: ignore[arg-type]
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["detail"].startswith("draining")
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/livez").status_code == 200
    # Draining is not refusing: requests are still served.
    r = client.post("/v1/classify", files={"file": ("p.png", png(), "image/png")})
    assert r.status_code == 200, r.text


class GatedOcr(FakeOcr):
    """FakeOcr that says when a call has started (and, like FakeOcr, waits for `release`)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()

    def recognize(self, image: Image.Image) -> list[OcrWord]:
        self.entered.set()
        return super().recognize(image)


def until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Wait for a condition on the server, asking every 20 ms, for at most timeout_s."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        threading.Event().wait(0.02)


def status(url: str) -> int | None:
    """The status code, or None when the connection is refused."""
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.ConnectError:
        return None


DRAIN_S = 2.0  # long enough for the checks made during the drain on a busy machine


def test_sigterm_on_a_real_server_drains_finishes_in_flight_and_refuses_new(
    checkpoint_dir: Path, server_handler: ServerHandler
) -> None:
    """uvicorn in this (main) thread with the app's lifespan, a client in another: SIGTERM with
    one request held in OCR. During the drain /readyz is 503 and a new request is served; after
    it the listening socket is closed (new connections refused) while the held request still
    finishes with 200; then the server exits and puts the signal handlers back."""
    ocr = GatedOcr()
    settings = make_settings(checkpoint_dir, shutdown_drain_s=DRAIN_S)
    app = create_app(settings, loader_for(ocr))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, log_config=None, timeout_graceful_shutdown=20)
    server = uvicorn.Server(config)
    seen: dict[str, Any] = {}
    failure: list[BaseException] = []
    page = {"file": ("page.png", png(), "image/png")}

    def scenario() -> None:
        pool = ThreadPoolExecutor(1)
        try:
            until(lambda: status(f"{url}/readyz") == 200, 60, "readiness")
            ocr.entered.clear()
            ocr.release.clear()  # the next OCR call holds its worker until released
            held = pool.submit(
                httpx.post,
                f"{url}/v1/classify",
                files=page,
                data={"full_depth": "true"},
                timeout=30,
            )
            assert ocr.entered.wait(10), "the full-depth request never reached OCR"
            sent = time.monotonic()
            os.kill(os.getpid(), signal.SIGTERM)
            until(lambda: state_of(app).draining, 5, "the drain")
            ready = httpx.get(f"{url}/readyz", timeout=5)
            seen["readyz"] = (ready.status_code, ready.json()["detail"])
            seen["livez"] = status(f"{url}/livez")
            quick = httpx.post(
                f"{url}/v1/classify",
                files=page,
                data={"policy": '{"name": "global", "tau": 0.0}'},  # first exit: no OCR
                timeout=10,
            )
            seen["during_drain"] = (quick.status_code, quick.json())
            seen["served_within_drain"] = time.monotonic() - sent < DRAIN_S
            seen["held_done_in_drain"] = held.done()
            until(lambda: status(f"{url}/livez") is None, DRAIN_S + 10, "the socket to close")
            seen["refused_after_s"] = time.monotonic() - sent
            seen["held_done_at_close"] = held.done()
            ocr.release.set()
            answer = held.result(20)
            seen["held"] = (answer.status_code, answer.json())
        except BaseException as exc:
            failure.append(exc)
            server.should_exit = True
        finally:
            ocr.release.set()
            pool.shutdown(wait=False)

    def watchdog() -> None:  # never hang the suite: force the server down after a minute
        server.should_exit = server.force_exit = True
        ocr.release.set()

    guard = threading.Timer(60, watchdog)
    guard.daemon = True
    guard.start()
    client = threading.Thread(target=scenario, daemon=True)
    client.start()
    try:
        server.run(sockets=[sock])
    finally:
        guard.cancel()
        ocr.release.set()
        client.join(30)
        sock.close()
    if failure:
        raise failure[0]
    assert not client.is_alive()
    status_code, detail = seen["readyz"]
    assert status_code == 503 and detail.startswith("draining") and "1 request(s)" in detail
    assert seen["livez"] == 200
    code, body = seen["during_drain"]
    assert code == 200 and body["ocr_skipped"] and body["exit"]["stage"] == "vision"
    assert seen["served_within_drain"] and not seen["held_done_in_drain"]
    assert seen["refused_after_s"] >= DRAIN_S  # the socket stayed open for the whole drain
    assert not seen["held_done_at_close"]  # refusing new work did not cut the held request
    code, body = seen["held"]
    assert code == 200 and body["exit"]["name"] == f"mm.{body['exit']['num_layers']}"  # full depth
    assert body["ocr_calls"] == 1 and not body["ocr_skipped"]
    # uvicorn put back the handler it found (ours) and re-raised the SIGTERM it had captured:
    # the drain's wrapper is gone and the server's chain ran to the end exactly once.
    assert installed() is server_handler
    assert len(server_handler.calls) == 1
