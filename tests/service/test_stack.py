"""The shipped checkpoint behind real processes: two `python -m service` replicas with real
Tesseract, sharing one real redis-server, all on free ports; generated pages as traffic.
Slow (real OCR, about a minute and a half): the issue's acceptance, end to end."""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.data.labels import CLASSES
from models.fields import field_keys, normalise
from tests.processes import SHIPPED, RedisServer, ServiceProcess, replicas
from tests.service.conftest import TOKEN
from tests.service.test_metrics import samples, value

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {TOKEN}"}
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]


Stack = tuple[RedisServer, ServiceProcess, ServiceProcess]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("stack")
    redis = RedisServer(password="stack-redis-password")  # as deployed: ACL user, default off
    try:
        # One worker thread each: two replicas on two cores.
        with replicas(logs, DOCEXIT_REDIS_URL=redis.url, DOCEXIT_WORKERS="1") as (a, b):
            yield redis, a, b
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def pages(corpus: Path) -> list[Path]:
    """One generated test page per class."""
    return [next(iter(sorted((corpus / "test" / label).glob("*.png")))) for label in CLASSES]


def test_some_pages_exit_at_the_vision_stage_without_ocr(stack: Stack, pages: list[Path]) -> None:
    _, a, _ = stack
    before = a.http.get("/metrics").text
    # Every other page carries a budget that Tesseract's seconds cannot pay for: those must be
    # answered by a vision exit, whatever thresholds the card's default policy sets.
    bodies = [
        a.classify(p, latency_budget_ms="500") if i % 2 else a.classify(p)
        for i, p in enumerate(pages)
    ]
    labels = a.http.get("/v1/model").json()["labels"]
    assert all(b["label"] in labels and 0 < b["confidence"] <= 1 for b in bodies)
    skipped = [b for b in bodies if b["ocr_skipped"]]
    assert all(b["ocr_skipped"] for b in bodies[1::2]), [b["exit"] for b in bodies[1::2]]
    assert all(b["exit"]["stage"] == "vision" and b["timings_ms"]["ocr"] == 0 for b in skipped)
    ocr = [b for b in bodies if not b["ocr_skipped"]]
    assert all(b["timings_ms"]["ocr"] > 0 for b in ocr)
    after = a.http.get("/metrics").text
    moved = value(after, "docexit_ocr_skipped_total") - value(before, "docexit_ocr_skipped_total")
    assert moved == len(skipped)
    assert value(after, "docexit_requests_total", status="200") - value(
        before, "docexit_requests_total", status="200"
    ) == len(pages)


def test_a_smaller_budget_exits_shallower_and_deadlines_hold(
    stack: Stack, pages: list[Path]
) -> None:
    _, _, b = stack
    sample = pages[::2]  # eight classes
    budgets = [250, 1000, 2000, 6000]  # the last pays for any operating point
    # Depth as the cascade meets exits: the answering exit's position in the checkpoint's exit
    # list (every vision exit, then OCR, then the text exits), as the budget ladder orders it.
    order = b.http.get("/v1/model").json()["exits"]
    mean_depth = []
    for budget in budgets:
        bodies = [b.classify(p, latency_budget_ms=str(budget)) for p in sample]
        mean_depth.append(statistics.fmean(order.index(x["exit"]["name"]) for x in bodies))
        for x in bodies:
            assert x["policy"]["latency_budget_ms"] == budget
            # The deadline is checked before every stage at its moving-average cost; an OCR
            # call cannot be interrupted, so a slow page may overrun by part of one.
            assert x["timings_ms"]["total"] <= 1.5 * budget + 250, x
    assert mean_depth == sorted(mean_depth), dict(zip(map(str, budgets), mean_depth, strict=True))
    assert mean_depth[0] < mean_depth[-1]


def test_an_admin_change_reaches_the_other_replica_within_a_second(
    stack: Stack, pages: list[Path]
) -> None:
    _, a, b = stack
    assert a.http.put("/admin/v1/latency-budget", json={"latency_budget_ms": 7}).status_code == 401
    bad = {"Authorization": "Bearer not-the-token-but-long-enough"}
    r = a.http.put("/admin/v1/latency-budget", headers=bad, json={"latency_budget_ms": 7})
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    r = a.http.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 4321})
    assert r.status_code == 200 and r.json()["store"] == "redis"
    changed = time.monotonic()
    while b.http.get("/admin/v1/latency-budget", headers=AUTH).json()["latency_budget_ms"] != 4321:
        assert time.monotonic() - changed < 1.0, "replica b did not apply the change within 1 s"
        time.sleep(0.02)
    assert b.classify(pages[0])["policy"]["latency_budget_ms"] == 4321
    assert value(b.http.get("/metrics").text, "docexit_latency_budget_seconds") == 4.321


def test_bad_inputs_get_problems_not_500s(stack: Stack) -> None:
    _, a, _ = stack
    cases = [
        ({"file": ("x.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png")}, {}, 422),
        ({"file": ("x.txt", b"plain text", "text/plain")}, {}, 415),
        ({"file": ("x.png", b"\0" * (21 * 1024 * 1024), "image/png")}, {}, 413),
        ({"file": ("x.png", b"\x89PNG", "image/png")}, {"latency_budget_ms": "-5"}, 422),
    ]
    for files, data, status in cases:
        r = a.http.post("/v1/classify", files=files, data=data)
        assert r.status_code == status, (status, r.text)
        assert r.headers["content-type"] == "application/problem+json" and r.json()["detail"]


# Last in the module: it kills the shared redis-server (and reads the budget set above).
def test_requests_succeed_after_redis_dies(stack: Stack, pages: list[Path]) -> None:
    redis, a, b = stack
    redis.stop()
    for replica in (a, b):
        deadline = time.monotonic() + 10
        while "unreachable" not in (replica.http.get("/readyz").json().get("config_store") or ""):
            assert time.monotonic() < deadline, "the outage was never noticed"
            time.sleep(0.1)
        assert replica.http.get("/readyz").status_code == 200  # still serving
        body = replica.classify(pages[1])
        assert body["policy"]["latency_budget_ms"] == 4321  # the last known config
        scrape = samples(replica.http.get("/metrics").text)
        assert scrape[("docexit_config_store_up", "{}")] == 0


def test_extract_reads_a_generated_invoices_fields_within_its_budget(
    stack: Stack, pages: list[Path]
) -> None:
    _, a, _ = stack
    if a.http.get("/v1/model").json().get("decoder") is None:
        pytest.skip("the shipped checkpoint has no field decoder")
    page = pages[CLASSES.index("invoice")]
    truth = json.loads(page.with_suffix(".json").read_text())["fields"]
    budget = 10_000  # Tesseract on the whole page, then the decoder
    files = {"file": (page.name, page.read_bytes(), "image/png")}
    start = time.perf_counter()
    r = a.http.post("/v1/extract", files=files, data={"latency_budget_ms": str(budget)})
    elapsed_ms = 1000 * (time.perf_counter() - start)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["classification"]["label"] == "invoice"
    assert not body["decoder"]["stopped"] and elapsed_ms <= budget, (elapsed_ms, body)
    fields = {k: v["value"] for k, v in body["fields"].items()}
    assert set(fields) <= set(field_keys("invoice"))
    # Real OCR of a clean generated page: most of its fields come back exactly.
    exact = [k for k in field_keys("invoice") if fields.get(k) == normalise(truth[k])]
    assert len(exact) >= 2, (fields, truth)
    assert value(a.http.get("/metrics").text, "docexit_decoder_steps_total") >= 1
