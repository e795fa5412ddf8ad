"""With a real redis-server: replicas share admin changes within 1 s, OCR is cached by page
hash, and a dead Redis leaves requests working on the last known config."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from models.checkpoint import load_checkpoint
from models.policies import GlobalThreshold
from models.runtime import Cascade
from service import cascade as anytime
from service.budget import Deadline, LatencyModel
from service.ocr import CachedOcr
from tests.processes import RedisServer
from tests.service.conftest import TOKEN, FakeOcr, png

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed (make sysdeps)"
)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEVER = '{"name": "global", "tau": 0.999}'


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


def classify(client: TestClient, **data: str) -> dict[str, object]:
    r = client.post("/v1/classify", files={"file": ("p.png", png(), "image/png")}, data=data)
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_two_replicas_share_a_change_within_a_second(
    client_factory: Callable[..., TestClient], redis_server: RedisServer
) -> None:
    a = client_factory(redis_url=redis_server.url)
    b = client_factory(redis_url=redis_server.url)
    r = a.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 1234})
    assert r.status_code == 200 and r.json()["store"] == "redis"
    changed = time.monotonic()
    while b.get("/admin/v1/latency-budget", headers=AUTH).json()["latency_budget_ms"] != 1234:
        assert time.monotonic() - changed < 1.0, "replica b did not apply the change within 1 s"
        time.sleep(0.02)
    assert classify(b)["policy"]["latency_budget_ms"] == 1234  # type: ignore[index]
    # A third replica starting later reads the current config from Redis.
    c = client_factory(redis_url=redis_server.url)
    assert c.get("/admin/v1/latency-budget", headers=AUTH).json()["version"] == 1


def test_ocr_is_cached_by_page_hash(
    client_factory: Callable[..., TestClient], redis_server: RedisServer
) -> None:
    ocr = FakeOcr()
    a = client_factory(ocr=ocr, redis_url=redis_server.url)
    classify(a, policy=NEVER)
    calls = ocr.calls
    b = client_factory(ocr=ocr, redis_url=redis_server.url)  # another replica, same cache
    assert classify(b, policy=NEVER)["ocr_skipped"] is False
    assert ocr.calls == calls


def test_requests_survive_redis_going_away(
    client_factory: Callable[..., TestClient], redis_server: RedisServer
) -> None:
    client = client_factory(redis_url=redis_server.url)
    client.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 60_000})
    assert "in sync" in client.get("/readyz").json()["config_store"]
    redis_server.stop()
    deadline = time.monotonic() + 5
    while "unreachable" not in (client.get("/readyz").json().get("config_store") or ""):
        assert time.monotonic() < deadline, "the outage was never noticed"
        time.sleep(0.05)
    ready = client.get("/readyz")
    assert (
        ready.status_code == 200 and "last known config version 1" in ready.json()["config_store"]
    )
    body = classify(client, policy=NEVER)  # OCR cache down too: recomputed, not failed
    assert body["policy"]["latency_budget_ms"] == 60_000  # type: ignore[index]
    assert "docexit_config_store_up 0.0" in client.get("/metrics").text
    r = client.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 5})
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"


def test_a_cache_hit_does_not_teach_the_latency_model_that_ocr_is_cheap(
    checkpoint_dir: Path, redis_server: RedisServer
) -> None:
    model, card = load_checkpoint(checkpoint_dir)
    cascade = Cascade(model, card)
    slow = FakeOcr(delay_s=0.05)
    ocr = CachedOcr(slow, redis_server.url, 60)
    latency = LatencyModel({"ocr": 10.0}, model.config.exit_names())  # no band costs: "ocr"
    image = Image.new("L", (120, 160), 230)
    never = GlobalThreshold(1.1)
    anytime.run(cascade, image, never, Deadline(None), latency, ocr)
    assert not ocr.last_call_cached and 0.05 <= latency.get("ocr.band") < 10.0
    learned = {s: latency.get(s) for s in ("ocr.band", "ocr.rest")}
    calls = slow.calls
    anytime.run(cascade, image, never, Deadline(None), latency, ocr)
    assert slow.calls == calls and ocr.last_call_cached  # both OCR calls from the cache
    assert {s: latency.get(s) for s in ("ocr.band", "ocr.rest")} == learned
