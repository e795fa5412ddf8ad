"""A real Prometheus (1 s scrapes, the shipped rule files loaded) scraping a real
`python -m service` on the shipped checkpoint, after traffic of every kind the dashboard
shows: every PromQL expression of the Grafana dashboard and of the recording rules must
return data, so no panel is empty for want of a series. Last, SIGTERM: the service drains.
The pages carry their own OCR words, so Tesseract's speed does not enter (about 30 s)."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from tests.deploy import promql
from tests.deploy.promql import ROOT, RULE_FILES, Expr
from tests.processes import Process, free_port

SHIPPED = ROOT / "models" / "checkpoints" / "default"
TOKEN = "deploy-live-test-7Qx2Kp9w"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="prometheus not installed (make sysdeps-test: Debian package prometheus)",
    ),
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
]
LINES = ["INVOICE No 20931", "Date 2024-03-14", "Bill to ACME Corporation", "Total due 1,250.00"]


def page() -> tuple[bytes, str]:
    """A generated invoice-like PNG page and its words as client-side OCR."""
    image = Image.new("L", (850, 1100), 255)
    draw = ImageDraw.Draw(image)
    words = []
    for row, line in enumerate(LINES):
        x, y = 60, 60 + 60 * row
        for word in line.split():
            draw.text((x, y), word, fill=0, font_size=28)
            x1 = x + 17 * len(word)
            words.append({"text": word, "box": [x, y, x1, y + 30]})
            x = x1 + 20
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue(), json.dumps({"words": words})


def two_page_tiff(png: bytes) -> bytes:
    """The page twice, as one TIFF: a document request (pages=all) reads it with Tesseract."""
    image = Image.open(io.BytesIO(png))
    buf = io.BytesIO()
    image.save(buf, "TIFF", save_all=True, append_images=[image])
    return buf.getvalue()


class Prometheus(Process):
    def __init__(self, target: str, tmp: Path) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in RULE_FILES],
            "scrape_configs": [{"job_name": "docexit", "static_configs": [{"targets": [target]}]}],
        }
        (tmp / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        args = [
            "prometheus",
            f"--config.file={tmp / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp / 'data'}",
            f"--web.listen-address={self.url.removeprefix('http://')}",
            "--log.level=warn",
        ]
        super().__init__(args, dict(os.environ), tmp / "prometheus.log")

    def query(self, promql: str) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body["status"] == "success", f"{promql}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def has_data(self, promql: str) -> bool:
        """At least one sample that is a number (a rate over no traffic gives NaN)."""
        return any(not math.isnan(float(s["value"][1])) for s in self.query(promql))


Stack = tuple[Process, str, Prometheus]
DRAIN_S = 1.0  # the service's readiness drain on SIGTERM


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("live")
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DOCEXIT_CHECKPOINT": str(SHIPPED),
        "DOCEXIT_ADMIN_TOKEN": TOKEN,
        "DOCEXIT_WORKERS": "1",
        "DOCEXIT_SHUTDOWN_DRAIN_S": str(DRAIN_S),
        # Every answer shadowed, so the shadow rules and panels have pairs (tests/deploy/
        # test_shadow_live.py checks what they measure).
        "DOCEXIT_SHADOW_RATE": "1",
        # Pages go through the batcher (alone, mostly), so the batching panels have data.
        "DOCEXIT_MAX_BATCH": "2",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("PROMETHEUS_MULTIPROC_DIR", "DOCEXIT_REDIS_URL", "DOCEXIT_LATENCY_BUDGET_MS"):
        env.pop(name, None)
    service = Process([sys.executable, "-m", "service"], env, tmp / "docexit.log")
    prometheus = Prometheus(f"127.0.0.1:{port}", tmp)  # starts while the model loads
    try:
        url = f"http://127.0.0.1:{port}"
        service.wait_http(f"{url}/readyz", 180)
        prometheus.wait_http(f"{prometheus.url}/-/ready", 30)
        yield service, url, prometheus
    finally:
        prometheus.stop()
        service.stop()


def shadow_pairs(http: httpx.Client) -> float:
    """Shadow pairs this process has counted so far (its /metrics)."""
    lines = http.get("/metrics").text.splitlines()
    return sum(
        float(ln.rsplit(" ", 1)[1]) for ln in lines if ln.startswith("docexit_shadow_total{")
    )


@pytest.fixture(scope="module")
def traffic(stack: Stack) -> Prometheus:
    """Requests of every kind, then an admin change; returns once Prometheus has them."""
    _, url, prometheus = stack
    wait_for(prometheus, 'up{job="docexit"} == 1', 20)  # version 0 is scraped before the change
    png, words = page()
    kinds: list[dict[str, str]] = [
        *[{}] * 8,  # the card's default policy
        *[{"latency_budget_ms": "1"}] * 3,  # no stage fits: deadline hits, vision exits
        *[{"latency_budget_ms": "500"}] * 3,
        *[{"full_depth": "true"}] * 2,
    ]
    with httpx.Client(base_url=url, timeout=60) as http:
        # Two waves, scrapes apart: a labelled series is born with its first request, and rate()
        # sees no increase in a series' first sample, so one quick wave can leave every rate 0.
        for wave in range(2):
            if wave:
                time.sleep(3.0)
            for form in kinds:
                files = {"file": ("page.png", png, "image/png")}
                r = http.post("/v1/classify", files=files, data={"ocr": words, **form})
                assert r.status_code == 200, r.text
            doc = {"file": ("doc.tiff", two_page_tiff(png), "image/tiff")}
            r = http.post("/v1/classify", files=doc, data={"pages": "all"})
            assert r.status_code == 200 and r.json()["pages_read"], r.text
            bad = http.post(
                "/v1/classify", files={"file": ("page.txt", b"not a page", "text/plain")}
            )
            assert bad.status_code == 415, bad.text
        # A shadow run gives way to the next live request, so back-to-back traffic leaves few
        # pairs: two requests more, each given the time for its shadow to finish.
        for _ in range(2):
            files = {"file": ("page.png", png, "image/png")}
            assert http.post("/v1/classify", files=files, data={"ocr": words}).status_code == 200
            before = shadow_pairs(http)
            deadline = time.monotonic() + 30
            while shadow_pairs(http) == before and time.monotonic() < deadline:
                time.sleep(0.2)
        r = http.put(
            "/admin/v1/latency-budget",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"latency_budget_ms": 2000},
        )
        assert r.status_code == 200, r.text
    wait_for(prometheus, "docexit_latency_budget_seconds == 2", 20)
    wait_for(prometheus, "job:docexit_shadow_disagreement:ratio_rate1h >= 0", 60)
    wait_for(prometheus, 'docexit_requests_total{status="415"}', 10)
    return prometheus


def wait_for(prometheus: Prometheus, promql: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not prometheus.has_data(promql):
        assert time.monotonic() < deadline, f"no data for {promql} after {timeout_s} s"
        time.sleep(0.5)


def assert_all_return_data(prometheus: Prometheus, exprs: list[Expr], timeout_s: float) -> None:
    """Polled together: the recording rules need an evaluation or two after the traffic."""
    pending = list(exprs)
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        pending = [e for e in pending if not prometheus.has_data(e.promql)]
        if pending:
            time.sleep(1.0)
    assert not pending, "no data:\n" + "\n".join(f"{e.where}: {e.promql}" for e in pending)


def test_every_dashboard_query_returns_data(traffic: Prometheus) -> None:
    exprs = list(promql.dashboard_exprs())
    assert len(exprs) > 20
    assert_all_return_data(traffic, exprs, 30)
    for where, metric, label in promql.variable_queries():
        found = {s["metric"].get(label) for s in traffic.query(metric)}
        assert found - {None}, f"{where}: no {label} label on {metric}"


def test_every_recording_rule_returns_data(traffic: Prometheus) -> None:
    exprs = list(promql.recording_exprs())
    assert_all_return_data(traffic, exprs, 30)
    # and what they record is there under its name, for the dashboard and the alerts
    names = {e.where.split(": ", 1)[1].split("{")[0] for e in exprs}
    assert_all_return_data(traffic, [Expr(n, n) for n in sorted(names)], 10)


def test_alert_expressions_evaluate_on_real_series(traffic: Prometheus) -> None:
    for expr in promql.alert_exprs():
        traffic.query(expr.promql)  # asserts success; quiet is expected: nothing is wrong


def test_the_prometheus_adapter_query_finds_in_flight_requests(traffic: Prometheus) -> None:
    import yaml

    values = yaml.safe_load((ROOT / "deploy/k8s/prometheus-adapter-values.yaml").read_text())
    (rule,) = values["rules"]["custom"]
    metric = rule["seriesQuery"].split("{")[0]
    query = (
        rule["metricsQuery"]
        .replace("<<.Series>>", metric)
        .replace("<<.LabelMatchers>>", 'job="docexit"')
        .replace("<<.GroupBy>>", "instance")  # the adapter groups by pod; no pods here
    )
    assert traffic.has_data(query), query


def test_sigterm_lets_an_in_flight_request_finish_then_exits(stack: Stack) -> None:
    """Runs last: it stops the service. The upload is still streaming when SIGTERM lands."""
    service, url, _ = stack
    png, words = page()
    boundary = "docexit-drain-test"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="ocr"\r\n\r\n{words}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="page.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    tail = png + f"\r\n--{boundary}--\r\n".encode()
    started, result = threading.Event(), {}

    def body() -> Iterator[bytes]:
        yield head
        started.set()
        time.sleep(DRAIN_S + 2.5)  # SIGTERM lands now, mid-request; the drain passes
        yield tail

    def post() -> None:
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        result["response"] = httpx.post(
            f"{url}/v1/classify", content=body(), headers=headers, timeout=30
        )

    client = threading.Thread(target=post)
    client.start()
    assert started.wait(10)
    time.sleep(0.3)  # the request's headers have reached the server
    service.proc.send_signal(signal.SIGTERM)
    # First the drain: unready, still serving; then no new connection while it finishes.
    time.sleep(0.2)
    assert httpx.get(f"{url}/readyz", timeout=1).status_code == 503
    assert httpx.get(f"{url}/livez", timeout=1).status_code == 200
    refused, deadline = False, time.monotonic() + DRAIN_S + 1.5
    while not refused and time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/livez", timeout=1)
            time.sleep(0.1)
        except httpx.TransportError:
            refused = True
    assert refused and client.is_alive()  # refused while our upload was still in flight
    client.join(30)
    response: httpx.Response = result["response"]
    assert response.status_code == 200, response.text
    assert response.json()["label"]
    # uvicorn re-raises the SIGTERM it handled once drained: exit status -15 (or 0)
    assert service.proc.wait(30) in (0, -signal.SIGTERM)
