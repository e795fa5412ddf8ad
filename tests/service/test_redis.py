"""With a real redis-server: replicas share admin changes within 1 s and one audit trail, OCR is
cached by page hash (an unreadable entry is recomputed), a dead Redis leaves requests working on
the last known config, and once it is back the listeners subscribe again and a Redis that lost
its data gets the newest config written back."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from models.card import Latency
from models.checkpoint import load_checkpoint
from models.policies import GlobalThreshold
from models.runtime import Cascade
from service import deadline as anytime
from service.deadline import Deadline
from service.latency_model import LatencyModel
from service.ocr_cache import CachedOcr
from service.signing import Signer
from tests.processes import RedisServer
from tests.service.conftest import SIGNING_KEY, TOKEN, FakeOcr, png

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
    cascade = Cascade.from_card(model, card)
    slow = FakeOcr(delay_s=0.05)
    ocr = CachedOcr(slow, redis_server.url, 60, Signer(SIGNING_KEY))
    latency = LatencyModel(Latency(ocr=10.0), model.config.plan)  # no band costs: "ocr"
    image = Image.new("L", (120, 160), 230)
    never = GlobalThreshold(1.1)
    anytime.run(cascade, image, never, Deadline(None), latency, ocr)
    assert not ocr.last_call_cached and 0.05 <= latency.get("ocr.band") < 10.0
    learned = {s: latency.get(s) for s in ("ocr.band", "ocr")}
    calls = slow.calls
    anytime.run(cascade, image, never, Deadline(None), latency, ocr)
    assert slow.calls == calls and ocr.last_call_cached  # both OCR calls from the cache
    assert {s: latency.get(s) for s in ("ocr.band", "ocr")} == learned


def test_the_audit_trail_is_shared_newest_first_and_503_without_redis(
    client_factory: Callable[..., TestClient], redis_server: RedisServer
) -> None:
    a = client_factory(redis_url=redis_server.url)
    b = client_factory(redis_url=redis_server.url)
    for client, ms in ((a, 100), (b, 200), (a, 300)):
        r = client.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": ms})
        assert r.status_code == 200, r.text
    for client in (a, b, client_factory(redis_url=redis_server.url)):  # and one started later
        entries = client.get("/admin/v1/audit", headers=AUTH).json()
        assert [(e["version"], e["new"]) for e in entries] == [(3, 300), (2, 200), (1, 100)]
    assert len(a.get("/admin/v1/audit", headers=AUTH, params={"limit": 1}).json()) == 1
    redis_server.stop()
    r = a.get("/admin/v1/audit", headers=AUTH)
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert "audit trail cannot be read" in r.json()["detail"] and r.headers["retry-after"]


def test_a_redis_that_lost_its_data_gets_the_newest_config_back(
    client_factory: Callable[..., TestClient], redis_server: RedisServer
) -> None:
    a = client_factory(redis_url=redis_server.url)
    for ms in (100, 200):
        a.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": ms})
    redis_server.stop()
    redis_server.start()  # no persistence: empty
    later: TestClient | None = None
    deadline = time.monotonic() + 3
    while (
        later is None or later.get("/admin/v1/latency-budget", headers=AUTH).json()["version"] != 2
    ):
        assert time.monotonic() < deadline, "the config was not restored into redis"
        time.sleep(0.1)
        later = client_factory(redis_url=redis_server.url)  # a replica started after the loss
    assert later.get("/admin/v1/latency-budget", headers=AUTH).json()["latency_budget_ms"] == 200
    r = later.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 300})
    assert r.json()["version"] == 3  # versions go on from the restored one


def test_an_unreadable_cache_entry_is_recomputed_not_failed(redis_server: RedisServer) -> None:
    import redis

    engine = FakeOcr()
    ocr = CachedOcr(engine, redis_server.url, 60, Signer(SIGNING_KEY))
    image = Image.new("L", (50, 60), 230)
    texts, boxes = ocr(image)
    assert engine.calls == 1 and texts == ["Invoice", "Total"]
    assert ocr(image) == (texts, boxes) and engine.calls == 1 and ocr.last_call_cached
    raw = redis.Redis.from_url(redis_server.url)
    (key,) = raw.keys("docexit:ocr:*")
    for junk in (b"{not json", b'{"texts": ["a"], "boxes": []}', b'{"texts": 1}', b"[]"):
        raw.set(key, junk)
        assert ocr(image) == (texts, boxes) and not ocr.last_call_cached
    assert engine.calls == 5
    assert ocr(image) == (texts, boxes) and ocr.last_call_cached  # overwritten with good words
    raw.close()


def test_after_a_redis_restart_changes_arrive_by_message_not_only_by_resync(
    client_factory: Callable[..., TestClient], redis_server: RedisServer
) -> None:
    # A resync period far longer than the test: only a re-subscribed listener can carry it.
    a = client_factory(redis_url=redis_server.url, redis_resync_s=60)
    b = client_factory(redis_url=redis_server.url, redis_resync_s=60)
    redis_server.stop()
    time.sleep(1.5)  # both listeners lose their connection (they poll every second)
    restart = time.monotonic()
    redis_server.start()
    while (
        r := a.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 4321})
    ).status_code != 200:
        assert time.monotonic() - restart < 2, r.text
        time.sleep(0.02)
    while b.get("/admin/v1/latency-budget", headers=AUTH).json()["latency_budget_ms"] != 4321:
        assert time.monotonic() - restart < 2, "replica b did not subscribe again"
        time.sleep(0.02)
    assert "in sync" in b.get("/readyz").json()["config_store"]
