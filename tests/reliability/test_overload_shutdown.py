"""One real `python -m service` process with one worker thread and a queue of two, the shipped
checkpoint and real Tesseract (about 2 s a page at full depth): overload answers 503 with
Retry-After and nothing else, the service recovers when load drops, and a SIGTERM under load
first fails readiness, then finishes every request it accepted."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.processes import SHIPPED, ServiceProcess
from tests.service.test_metrics import value

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
]
QUEUE = 2  # with one worker: three requests accepted at a time
DRAIN_S = 2.0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    log = tmp_path_factory.mktemp("overload") / "service.log"
    proc = ServiceProcess(
        log,
        DOCEXIT_WORKERS="1",
        DOCEXIT_QUEUE_SIZE=str(QUEUE),
        DOCEXIT_RETRY_AFTER_S="2",
        DOCEXIT_SHUTDOWN_DRAIN_S=str(DRAIN_S),
        LOG_LEVEL="INFO",
    )
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def page(corpus: Path) -> bytes:
    return next(iter(sorted((corpus / "test").glob("*/*.png")))).read_bytes()


def post(url: str, page: bytes) -> httpx.Response:
    """A full-depth request: real OCR, every layer; about 2 s of the only worker."""
    files = {"file": ("page.png", page, "image/png")}
    return httpx.post(f"{url}/v1/classify", files=files, data={"full_depth": "true"}, timeout=120)


def test_overload_answers_503_with_retry_after_and_recovers(
    service: ServiceProcess, page: bytes
) -> None:
    before = service.http.get("/metrics").text
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: post(service.url, page), range(10)))
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) == {200, 503}, statuses
    assert statuses.count(200) >= 1 + QUEUE  # the worker's and the queue's
    for r in answers:
        if r.status_code == 503:
            assert r.headers["retry-after"] == "2"
            assert r.headers["content-type"] == "application/problem+json"
            assert "queue is full" in r.json()["detail"]
    # Load dropped: served again, and ready all along (overload is not unreadiness).
    assert post(service.url, page).status_code == 200
    assert service.http.get("/readyz").status_code == 200
    after = service.http.get("/metrics").text
    refused = value(after, "docexit_requests_total", status="503") - value(
        before, "docexit_requests_total", status="503"
    )
    assert refused == statuses.count(503)


# Last in the module: it ends the process.
def test_sigterm_fails_readiness_first_then_finishes_every_accepted_request(
    service: ServiceProcess, page: bytes
) -> None:
    pool = ThreadPoolExecutor(4)
    # One short of the capacity: room for the request that arrives during the drain.
    early: list[Future[httpx.Response]] = [
        pool.submit(post, service.url, page) for _ in range(QUEUE)
    ]
    deadline = time.monotonic() + 10
    while value(service.http.get("/metrics").text, "docexit_inflight_requests") < len(early):
        assert time.monotonic() < deadline, "the requests never reached the service"
        time.sleep(0.05)
    service.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()
    while (ready := service.http.get("/readyz")).status_code == 200:
        assert time.monotonic() - signalled < 1.0, "readiness still 200 a second after SIGTERM"
        time.sleep(0.02)
    assert ready.status_code == 503 and "draining" in ready.json()["detail"]
    # A load balancer may still route a request during the drain: it is served too.
    late = pool.submit(post, service.url, page)
    assert all(f.result(timeout=120).status_code == 200 for f in [*early, late])
    pool.shutdown()
    service.proc.wait(60)
    # uvicorn re-raises the SIGTERM once it has shut down gracefully.
    assert service.proc.returncode in (0, -signal.SIGTERM)
    with pytest.raises(httpx.TransportError):  # the socket is closed
        httpx.get(f"{service.url}/livez", timeout=2)
    log = Path(service.log.name).read_text()
    assert "Traceback" not in log and "Cancel" not in log, log[-2000:]
    assert log.index("draining") < log.index("Shutting down")
