"""Every metric issue 4 lists is exposed and moves; multiprocess mode merges processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.metrics import NAMES
from tests.service.conftest import FakeOcr, png


def samples(text: str) -> dict[tuple[str, str], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, json.dumps(s.labels, sort_keys=True))] = s.value
    return out


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, json.dumps(labels, sort_keys=True)), 0.0)


def test_every_metric_is_exposed_and_moves(client: TestClient) -> None:
    before = client.get("/metrics").text
    for name in NAMES:
        assert f"# TYPE {name} " in before, name
    files = {"file": ("p.png", png(), "image/png")}
    client.post("/v1/classify", files=files, data={"policy": '{"name": "global", "tau": 0.0}'})
    client.post("/v1/classify", files=files, data={"policy": '{"name": "global", "tau": 0.999}'})
    client.post(
        "/v1/classify",
        files=files,
        data={"policy": '{"name": "global", "tau": 0.999}'},
        headers={"X-Latency-Budget-Ms": "1"},
    )
    client.post("/v1/classify", files={"file": ("x.txt", b"text", "text/plain")})
    after = client.get("/metrics").text
    assert value(after, "docexit_requests_total", status="200") == 3
    assert value(after, "docexit_requests_total", status="415") == 1
    assert value(after, "docexit_ocr_skipped_total") == 2  # tau 0 and the deadline
    assert value(after, "docexit_deadline_hit_total") == 1
    assert value(after, "docexit_exit_layer_count", stage="vision") == 2
    assert value(after, "docexit_exit_layer_bucket", stage="multimodal", le="3.0") == 1
    assert value(after, "docexit_request_duration_seconds_count", stage="total") == 3
    assert value(after, "docexit_request_duration_seconds_count", stage="ocr") == 1
    assert sum(v for (n, _), v in samples(after).items() if n == "docexit_predictions_total") == 3
    assert value(after, "docexit_inflight_requests") == 0
    assert value(after, "docexit_exit_threshold", exit="mm.1") == 1.1  # the card's policy
    assert value(after, "docexit_config_store_up") == 1


def test_multiprocess_mode_merges_processes(tmp_path: Path) -> None:
    code = (
        "import os, sys; from service.metrics import Metrics;"
        "m = Metrics(3, os.environ['PROMETHEUS_MULTIPROC_DIR']);"
        "m.requests.labels(status='200').inc(); m.inflight.inc();"
        "sys.stdout.write(m.exposition()[0].decode())"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):  # two "workers", one after the other, same folder
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
    assert value(out, "docexit_requests_total", status="200") == 2
    assert list(tmp_path.glob("*.db"))


def test_queue_depth_counts_requests_waiting_for_a_worker(
    client_factory: Callable[..., TestClient],
) -> None:
    slow = FakeOcr()
    slow.release.clear()  # the first request holds the only worker inside OCR
    client = client_factory(ocr=slow, workers=1, queue_size=2)
    never = {"policy": '{"name": "global", "tau": 1.1}'}
    files = {"file": ("p.png", png(), "image/png")}
    threads = [
        threading.Thread(target=lambda: client.post("/v1/classify", files=files, data=never))
        for _ in range(2)
    ]
    try:
        threads[0].start()
        deadline = time.monotonic() + 10
        while not slow.calls:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert value(client.get("/metrics").text, "docexit_queue_depth") == 0  # running
        threads[1].start()
        while value(client.get("/metrics").text, "docexit_queue_depth") != 1:
            assert time.monotonic() < deadline, "the waiting request never showed"
            time.sleep(0.01)
        assert value(client.get("/metrics").text, "docexit_inflight_requests") == 2
    finally:
        slow.release.set()
        for t in threads:
            t.join(10)
    assert value(client.get("/metrics").text, "docexit_queue_depth") == 0
