"""The shadow lane (service.shadow) and its admin routes (service.routes.shadow), on the tiny
random checkpoint: sampled requests are re-run never exiting early on the words they read, off
the request path, dropped under load; their traces reproduce the live answers; and the
certificate is recomputed on them, applied only when asked."""

from __future__ import annotations

import io
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from models.card import Card, Certification
from models.policies import first_exit, make_policy
from service.budget import Choice
from service.deadline import Deadline
from service.engine import Engine
from service.shadow import ShadowLane
from service.state import state_of
from tests.service.conftest import (
    TOKEN,
    FakeOcr,
    assert_problem,
    loader_for,
    make_settings,
)

AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Actor": "shadow-test"}
VISION_FIRST = '{"name": "global", "tau": 0.0}'  # answers at the first vision exit: no OCR


def noisy_png(seed: int, size: tuple[int, int] = (77, 100)) -> bytes:
    """Pages that differ, so that the random model's exits answer differently on them."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0])).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, "L").save(buf, "PNG")
    return buf.getvalue()


def post(client: TestClient, seed: int = 0, **form: str) -> dict[str, Any]:
    files = {"file": ("page.png", noisy_png(seed), "image/png")}
    r = client.post("/v1/classify", files=files, data=form)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def shadow(client: TestClient) -> dict[str, Any]:
    r = client.get("/admin/v1/shadow", headers=AUTH)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def wait_pairs(client: TestClient, pairs: int, timeout_s: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while (view := shadow(client))["pairs"] < pairs:
        assert time.monotonic() < deadline, view
        time.sleep(0.02)
    return view


def sample(client: TestClient, name: str, **labels: str) -> float:
    """A sample of /metrics (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))  # as the client sorts
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not want and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_sampled_request_is_rerun_and_its_agreement_counted(
    client_factory: Callable[..., TestClient], fake_ocr: FakeOcr
) -> None:
    client = client_factory(shadow_rate=1.0)
    answer = post(client)
    view = wait_pairs(client, 1)
    exit_name = answer["exit"]["name"]
    assert list(view["per_exit"]) == [exit_name] and view["records_kept"] == 1
    # tau 1.1 (the tiny card's default) never exits early: the shadow is the same run
    assert exit_name == "mm.3" and view["disagreements"] == 0 and view["loss_estimate"] == 0.0
    assert sample(client, "docexit_shadow_total", exit="mm.3", agree="true") == 1.0
    assert sample(client, "docexit_shadow_total", exit="mm.3", agree="false") == 0.0
    assert fake_ocr.calls == 2  # the request's band and rest, reused: no OCR of its own


def test_at_rate_zero_nothing_runs_and_full_depth_is_never_sampled(
    client_factory: Callable[..., TestClient], fake_ocr: FakeOcr
) -> None:
    off = client_factory(shadow_rate=0.0)
    post(off, policy=VISION_FIRST)
    assert state_of(off.app).shadow._thread is None  # type: ignore[arg-type]
    on = client_factory(shadow_rate=1.0)
    post(on, full_depth="true")
    time.sleep(0.3)
    assert shadow(off)["pairs"] == 0 and shadow(on)["pairs"] == 0
    assert fake_ocr.calls == 1  # the full-depth request's own whole-page OCR, nothing else


def test_the_answer_does_not_wait_for_its_shadow(client_factory: Callable[..., TestClient]) -> None:
    ocr = FakeOcr()
    client = client_factory(ocr=ocr, shadow_rate=1.0)
    ocr.release.clear()  # OCR blocks: only the shadow needs it, the answer is a vision exit
    t = time.perf_counter()
    answer = post(client, policy=VISION_FIRST)
    assert time.perf_counter() - t < 5.0  # the shadow would wait 10 s for its OCR
    assert answer["ocr_calls"] == 0 and shadow(client)["pairs"] == 0
    ocr.release.set()
    view = wait_pairs(client, 1)
    assert list(view["per_exit"]) == [answer["exit"]["name"]]
    assert ocr.calls == 2  # the page the request never read: top band, then the whole page


def test_a_full_queue_or_a_busy_pool_drops_and_counts(
    client_factory: Callable[..., TestClient],
) -> None:
    ocr = FakeOcr()
    client = client_factory(ocr=ocr, shadow_rate=1.0, shadow_queue_size=1)
    lane = state_of(client.app).shadow  # type: ignore[arg-type]
    ocr.release.clear()
    post(client, 1, policy=VISION_FIRST)  # the lane takes it and blocks on its OCR
    deadline = time.monotonic() + 5
    while lane.queued:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    post(client, 2, policy=VISION_FIRST)  # waits in the queue
    post(client, 3, policy=VISION_FIRST)  # the queue is full: dropped
    assert shadow(client)["dropped"] == {"busy": 0, "queue_full": 1, "error": 0}
    assert sample(client, "docexit_shadow_dropped_total", reason="queue_full") == 1.0
    ocr.release.set()
    wait_pairs(client, 2)
    lane.busy = lambda: True  # every live worker busy: the shadow gives way
    post(client, 4, policy=VISION_FIRST)
    assert sample(client, "docexit_shadow_dropped_total", reason="busy") == 1.0
    assert shadow(client)["pairs"] == 2


POLICIES = [
    {"name": "global", "tau": 0.0},  # the first vision exit
    {"name": "per_exit", "taus": {"vision.2": 0.0}},  # a later vision exit
    {"name": "per_exit", "taus": {"emb.concat": 0.0}},  # in the top band's pass
    {"name": "per_exit", "taus": {"mm.2": 0.0}},  # past the band: the rest is read
    {"name": "global", "tau": 0.2},
    {"name": "global", "tau": 1.1},  # never early: the final exit
    {"name": "patience", "k": 2},
]


@pytest.fixture
def engine(checkpoint_dir: Path) -> Engine:
    return loader_for(FakeOcr())(make_settings(checkpoint_dir))


@pytest.mark.parametrize("spec", POLICIES, ids=lambda s: str(s))
def test_the_shadow_trace_reproduces_the_live_answer(
    engine: Engine, checkpoint_dir: Path, spec: dict[str, Any]
) -> None:
    """So a disagreement measures the early exit alone: the trace the shadow builds, under the
    live policy, picks the live exit and class; and the shadow OCRs only what was not read."""
    settings = make_settings(checkpoint_dir, shadow_rate=1.0)
    lane = ShadowLane(settings, state_metrics(), engine.exits, lambda: False)
    lane.engine = engine  # no thread: run() is called here
    policy = make_policy(spec["name"], {k: v for k, v in spec.items() if k != "name"})
    choice = Choice(policy, spec["name"], {}, "request")
    exits = set()
    for seed in range(6):
        result = engine.classify(noisy_png(seed), 0, None, choice, Deadline(None), 0.0)
        live = result.outcome
        job = lane_job(lane, result, choice)
        record = lane.run(job)
        assert record is not None
        trace = record.trace
        picked = trace.views[first_exit(policy, trace.views)]
        assert (picked.name, picked.prediction) == (live.exit, live.answer.prediction)
        assert record.reproduced and record.live_exit == live.exit
        assert record.agree == (live.answer.prediction == trace.views[-1].prediction)
        assert trace.full is trace.views[-1] and trace.views[-1].name == "mm.3"
        assert record.fresh_ocr_calls == {0: 2, 1: 1, 2: 0}[live.ocr_bands]
        exits.add(live.exit)
    assert exits  # the pages reached the exits the policy names


def test_a_running_shadow_gives_way_when_every_worker_becomes_busy(
    engine: Engine, checkpoint_dir: Path
) -> None:
    checks: list[int] = []

    def busy() -> bool:  # live requests take every worker after the shadow's third stage
        checks.append(1)
        return len(checks) > 3

    settings = make_settings(checkpoint_dir, shadow_rate=1.0)
    lane = ShadowLane(settings, state_metrics(), engine.exits, busy)
    lane.engine = engine
    choice = Choice(make_policy("global", {"tau": 0.0}), "global", {}, "request")
    result = engine.classify(noisy_png(0), 0, None, choice, Deadline(None), 0.0)
    checks.clear()
    job = lane_job(lane, result, choice)
    assert lane.run(job) is None  # stopped, not recorded: counted as busy by the lane's thread
    assert len(checks) == 4 and lane.records() == []


def state_metrics() -> Any:
    from service.metrics import Metrics

    return Metrics(num_layers=3)


def lane_job(lane: ShadowLane, result: Any, choice: Choice) -> Any:
    """The job offer() queues (no thread takes it: the lane was not started)."""
    lane.offer(result, choice)
    return lane._jobs.get_nowait()


# -- re-certification ------------------------------------------------------------------------
ORDER = [  # the certificate's testing order, safest first; its end-to-end costs, cheapest last
    ({"name": "global", "tau": 1.1}, 0.4),
    ({"name": "per_exit", "taus": {"vision.3": 0.9, "mm.1": 0.8}}, 0.3),
    ({"name": "global", "tau": 0.5}, 0.2),
    ({"name": "global", "tau": 0.0}, 0.1),
]
EPSILON = 0.2  # at δ = 0.1, 11 records can certify a point that never disagrees


def with_certificate(checkpoint_dir: Path, folder: Path, order: list[tuple[Any, float]]) -> Path:
    """A copy of the tiny checkpoint with a certificate that tested `order`."""
    for f in checkpoint_dir.iterdir():
        shutil.copy(f, folder / f.name)
    card = Card.read(folder)
    cost = {str(spec): s for spec, s in order}
    points = [
        p.model_copy(update={"end_to_end_s": cost.get(str(p.policy.spec()), 1.0)})
        for p in card.operating_points
    ]
    tested = [{"policy": spec, "risky": 0} for spec, _ in order]
    cert = Certification.model_validate(
        {"epsilon": EPSILON, "delta": 0.1, "risk": "harm", "reference": "full_depth", "pages": 50}
        | {"tested": tested}
    )
    card.updated(operating_points=points, certification=cert).write(folder)
    return folder


@pytest.fixture(scope="module")
def certified_dir(checkpoint_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_certificate(checkpoint_dir, tmp_path_factory.mktemp("certified"), ORDER)


@pytest.fixture
def serve(client_factory: Callable[..., TestClient]) -> Callable[[Path], TestClient]:
    """A started, ready app on another checkpoint folder, every request shadowed."""

    def make(folder: Path) -> TestClient:
        return client_factory(ocr=FakeOcr(), checkpoint=folder, shadow_rate=1.0)

    return make


def shadowed(client: TestClient, pages: int) -> None:
    """One page at a time, each waiting for its shadow (the lane's queue is short)."""
    for seed in range(pages):
        post(client, seed)
        wait_pairs(client, seed + 1)


def recertify(client: TestClient, **body: Any) -> Any:
    return client.post("/admin/v1/recertify", headers=AUTH, json=body)


def test_recertify_refuses_without_a_certificate_or_enough_records(
    client_factory: Callable[..., TestClient],
    serve: Callable[[Path], TestClient],
    certified_dir: Path,
) -> None:
    plain = client_factory(shadow_rate=1.0)
    body = assert_problem(recertify(plain), 409)
    assert body["type"].endswith("no-certificate")
    client = serve(certified_dir)
    shadowed(client, 3)
    body = assert_problem(recertify(client, apply=True), 409)
    assert body["type"].endswith("too-few-shadow-records")
    assert "3 shadow records" in body["detail"] and "fewer than 11" in body["detail"]
    assert client.get("/admin/v1/policy", headers=AUTH).json()["version"] == 0
    assert recertify(client, epsilon=0.9, delta=0.5).status_code == 200  # 1 record would do


def test_recertify_shows_then_applies_when_asked(
    serve: Callable[[Path], TestClient], certified_dir: Path
) -> None:
    client = serve(certified_dir)
    shadowed(client, 12)
    r = recertify(client)
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["records"] == 12 and shown["min_records"] == 11 and not shown["applied"]
    assert [p["policy"] for p in shown["points"]] == [spec for spec, _ in ORDER]
    first = shown["points"][0]  # never exits early: never disagrees, certified
    assert first["risky_pages"] == 0 and first["certified"] and first["p_value"] <= 0.1
    certified = [p["policy"] for p in shown["points"] if p["certified"]]
    assert shown["cheapest"] == certified[-1]  # the order above runs from dearest to cheapest
    last = shown["points"][-1]  # the first vision exit against the end: a random model
    assert last["risky_pages"] > 0 and not last["certified"]
    assert client.get("/admin/v1/policy", headers=AUTH).json()["version"] == 0  # shown only

    r = recertify(client, apply=True)
    assert r.status_code == 200, r.text
    assert r.json()["applied"] and r.json()["config_version"] == 1
    config = client.get("/admin/v1/policy", headers=AUTH).json()
    assert config["policy"] == shown["cheapest"]
    (entry,) = client.get("/admin/v1/audit", headers=AUTH).json()
    assert entry["field"] == "policy" and entry["new"] == shown["cheapest"]
    assert entry["actor"].startswith("shadow-test")


def test_recertify_applies_nothing_when_no_point_is_certified(
    serve: Callable[[Path], TestClient], checkpoint_dir: Path, tmp_path: Path
) -> None:
    """Testing stops at the first point not certified: here the first vision exit."""
    folder = with_certificate(checkpoint_dir, tmp_path, ORDER[::-1])
    client = serve(folder)
    shadowed(client, 12)
    shown = recertify(client).json()
    assert shown["cheapest"] is None and not any(p["certified"] for p in shown["points"])
    r = recertify(client, apply=True)
    body = assert_problem(r, 409)
    assert body["type"].endswith("nothing-certified")
    assert client.get("/admin/v1/policy", headers=AUTH).json()["version"] == 0
