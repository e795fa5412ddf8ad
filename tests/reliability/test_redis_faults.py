"""Redis dies under load and comes back: two real `python -m service` replicas (shipped
checkpoint, real Tesseract) share one real redis-server that keeps an append-only file. Client
threads post pages the whole time, half of them with a policy that never exits early, so that
OCR, and with it the Redis OCR cache, is in their path. While Redis is down no request fails and
an admin change is refused with a 503; once it is back the replicas agree on the next change
within 2 s of the restart."""

from __future__ import annotations

import io
import logging
import random
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis
from PIL import Image, ImageDraw, ImageFont

from tests.processes import SHIPPED, RedisServer, ServiceProcess, replicas
from tests.service.conftest import TOKEN
from tests.service.test_metrics import samples

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]
log = logging.getLogger(__name__)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEVER_EXIT = '{"name": "global", "tau": 1.1}'  # every layer, so OCR (cached or not) every time
CLIENTS_PER_REPLICA = 2  # each waits for its answer: far below a replica's queue of 16
CONVERGE_S = 2.0
WORDS = "invoice total amount due memo report budget letter form resume news email".split()


def pages(n: int, seed: int = 3) -> list[bytes]:
    """Small text pages, all different (so each needs its own OCR, then its own cache entry),
    small enough that Tesseract reads one in a fraction of a second."""
    rng = random.Random(seed)
    font = ImageFont.load_default(size=22)
    out = []
    for _ in range(n):
        image = Image.new("L", (600, 780), 255)
        draw = ImageDraw.Draw(image)
        for line in range(12):
            text = " ".join(rng.choice(WORDS) for _ in range(5))
            draw.text((40, 40 + 56 * line), text, fill=0, font=font)
        buf = io.BytesIO()
        image.save(buf, "PNG")
        out.append(buf.getvalue())
    return out


@dataclass
class Outcome:
    started: float
    ended: float
    replica: str
    status: int | str  # an HTTP status, or the transport error's name
    needs_ocr: bool


class Load:
    """Client threads posting pages to the replicas until stopped; every outcome is kept."""

    def __init__(self, replicas: dict[str, str], bodies: list[bytes]) -> None:
        self.outcomes: list[Outcome] = []
        self.replicas = set(replicas)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(name, url, bodies, i), daemon=True)
            for name, url in replicas.items()
            for i in range(CLIENTS_PER_REPLICA)
        ]

    def _run(self, name: str, url: str, bodies: list[bytes], seed: int) -> None:
        turn = seed
        with httpx.Client(base_url=url, timeout=60) as http:
            while not self._stop.is_set():
                turn += 1
                needs_ocr = turn % 2 == 0
                files = {"file": ("page.png", bodies[turn % len(bodies)], "image/png")}
                data = {"policy": NEVER_EXIT} if needs_ocr else {}
                started = time.monotonic()
                status: int | str
                try:
                    status = http.post("/v1/classify", files=files, data=data).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with self._lock:
                    self.outcomes.append(
                        Outcome(started, time.monotonic(), name, status, needs_ocr)
                    )

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(90)

    def done(self, since: float = 0.0, ocr_only: bool = False) -> list[Outcome]:
        with self._lock:
            return [
                o for o in self.outcomes if o.started >= since and (o.needs_ocr or not ocr_only)
            ]

    def wait_for_ocr(self, since: float, timeout_s: float = 60) -> None:
        """Until every replica has answered a request that needs OCR, started after `since`."""
        deadline = time.monotonic() + timeout_s
        while {o.replica for o in self.done(since, ocr_only=True)} != self.replicas:
            assert time.monotonic() < deadline, f"no OCR request answered in {timeout_s} s"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RedisServer, ServiceProcess, ServiceProcess]]:
    folder = tmp_path_factory.mktemp("redis-faults")
    server = RedisServer(persist_dir=folder)
    env = {
        "DOCEXIT_REDIS_URL": server.url,
        "DOCEXIT_WORKERS": "1",
        "DOCEXIT_WARMUP_REQUESTS": "0",  # the load warms them; start-up is the slow part
        "DOCEXIT_SHUTDOWN_DRAIN_S": "0",
        "LOG_LEVEL": "INFO",
    }
    try:
        with replicas(folder, **env) as (a, b):
            yield server, a, b
    finally:
        server.stop()


def budget_of(replica: ServiceProcess) -> int | None:
    r = replica.http.get("/admin/v1/latency-budget", headers=AUTH)
    assert r.status_code == 200, r.text
    value: int | None = r.json()["latency_budget_ms"]
    return value


def put_budget(replica: ServiceProcess, ms: int) -> httpx.Response:
    return replica.http.put(
        "/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": ms}
    )


def test_redis_restart_under_load_fails_nothing_and_replicas_converge(
    cluster: tuple[RedisServer, ServiceProcess, ServiceProcess],
    record_property: Callable[[str, object], None],
) -> None:
    server, a, b = cluster
    assert put_budget(a, 60_000).status_code == 200  # version 1: generous, never the limit
    cache = redis.Redis.from_url(server.url)
    load = Load({"a": a.url, "b": b.url}, pages(6))
    load.start()
    try:
        load.wait_for_ocr(since=0.0)
        assert cache.keys("docexit:ocr:*"), "the OCR cache was never used"
        cache.close()

        server.stop()  # SIGKILL: what a crash or an OOM kill does
        down = time.monotonic()
        for replica in (a, b):
            while "unreachable" not in replica.http.get("/readyz").json()["config_store"]:
                assert time.monotonic() - down < 5, "the outage was never noticed"
                time.sleep(0.05)
            refused = put_budget(replica, 1111)
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["retry-after"] and "not applied" in refused.json()["detail"]
        load.wait_for_ocr(since=down)  # OCR with no cache to ask

        restart = time.monotonic()
        server.start()
        while (r := put_budget(a, 2222)).status_code != 200:
            assert r.status_code == 503, r.text
            assert time.monotonic() - restart < CONVERGE_S, "redis never took the change"
            time.sleep(0.02)
        accepted_s = time.monotonic() - restart
        while budget_of(b) != 2222:
            assert time.monotonic() - restart < CONVERGE_S, "replica b kept the old config"
            time.sleep(0.02)
        converged_s = time.monotonic() - restart
        load.wait_for_ocr(since=restart + converged_s)
    finally:
        load.stop()

    outcomes = load.done()
    failed = [o for o in outcomes if o.status != 200]
    during = [o for o in outcomes if down <= o.started < restart]
    assert not failed, failed
    assert {o.replica for o in during} == {"a", "b"}
    for replica in (a, b):
        assert budget_of(replica) == 2222
        view = replica.http.get("/admin/v1/latency-budget", headers=AUTH).json()
        assert view["version"] == 2 and view["store_healthy"]  # the refused change left no trace
        statuses = {
            labels
            for (name, labels) in samples(replica.http.get("/metrics").text)
            if name == "docexit_requests_total"
        }
        assert statuses == {'{"status": "200"}'}, statuses
    audit = a.http.get("/admin/v1/audit", headers=AUTH).json()
    assert [e["new"] for e in audit] == [2222, 60_000]

    figures = {
        "requests": len(outcomes),
        "requests_failed": len(failed),
        "requests_during_outage": len(during),
        "ocr_requests_during_outage": sum(o.needs_ocr for o in during),
        "outage_s": round(restart - down, 2),
        "change_accepted_after_restart_s": round(accepted_s, 3),
        "replicas_converged_after_restart_s": round(converged_s, 3),
    }
    for key, value in figures.items():
        record_property(key, value)
    log.info("redis restart under load: %s", figures)  # pytest -rA or --log-cli-level=INFO
