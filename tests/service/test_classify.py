"""POST /v1/classify end to end on the tiny checkpoint: the response contract, OCR skipping,
client OCR, the deadline, and the problem+json errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from service.engine import Engine
from service.settings import Settings
from service.state import state_of
from tests.service import conftest
from tests.service.conftest import FakeOcr, assert_problem, png

FIELDS = {
    "label", "confidence", "top_k", "exit", "ocr_skipped", "deadline_hit", "timings_ms",
    "policy", "model", "request_id",
}  # fmt: skip
NEVER = json.dumps({"name": "global", "tau": 0.999})  # the random model never gets this sure
ALWAYS = json.dumps({"name": "global", "tau": 0.0})


def post(client: TestClient, data: bytes | None = None, **form: object) -> httpx.Response:
    fields = {k: str(v) for k, v in form.items()}
    return client.post(
        "/v1/classify", files={"file": ("page.png", data or png(), "image/png")}, data=fields
    )


def test_response_has_every_listed_field(client: TestClient) -> None:
    r = client.post(
        "/v1/classify",
        files={"file": ("p.png", png(), "image/png")},
        headers={"X-Request-ID": "abc-123"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert FIELDS <= body.keys()
    assert body["request_id"] == "abc-123" == r.headers["x-request-id"]
    assert body["exit"]["stage"] in ("vision", "multimodal") and body["exit"]["num_layers"] == 3
    assert set(body["timings_ms"]) >= {"decode", "ocr", "encode", "total"}
    assert body["model"] == {"name": "tiny-test", "version": "0.0.1"}
    assert len(body["top_k"]) == 5 and body["top_k"][0]["label"] == body["label"]
    assert body["top_k"][0]["confidence"] == body["confidence"]
    confidences = [t["confidence"] for t in body["top_k"]]
    assert confidences == sorted(confidences, reverse=True)


def test_a_vision_exit_skips_ocr(client: TestClient, fake_ocr: FakeOcr) -> None:
    body = post(client, policy=ALWAYS).json()
    assert body["ocr_skipped"] and body["exit"] == {
        "stage": "vision", "layer": 0, "num_layers": 3, "name": "emb.vision_avg"
    }  # fmt: skip
    assert body["timings_ms"]["ocr"] == 0 and fake_ocr.calls == 0
    assert body["policy"]["name"] == "global" and body["policy"]["source"] == "request"


def test_no_early_exit_runs_ocr_and_the_final_layer(client: TestClient, fake_ocr: FakeOcr) -> None:
    calls = fake_ocr.calls
    body = post(client, policy=NEVER).json()
    # Undecided after the page's top band: OCR of the rest, then the final layer.
    assert not body["ocr_skipped"] and fake_ocr.calls == calls + 2 and body["ocr_calls"] == 2
    assert body["exit"]["name"] == "mm.3" and body["exit"]["layer"] == 3
    full = post(client, full_depth="true").json()
    assert full["policy"]["name"] == "full_depth" and full["exit"]["name"] == "mm.3"


def test_client_ocr_skips_the_engine(client: TestClient, fake_ocr: FakeOcr) -> None:
    calls = fake_ocr.calls
    words = {
        "words": [{"text": "Dear", "box": [1, 1, 20, 9]}, {"text": "Sir", "box": [22, 1, 40, 9]}]
    }
    r = post(client, policy=NEVER, ocr=json.dumps(words))
    assert r.status_code == 200 and fake_ocr.calls == calls
    assert r.json()["exit"]["stage"] == "multimodal"


def test_deadline_answers_with_the_best_exit_so_far(client: TestClient, fake_ocr: FakeOcr) -> None:
    engine = state_of(client.app).engine
    for _ in range(50):  # OCR has been slow lately: the moving average says 30 s
        engine.latency.observe("ocr", 30.0)
    calls = fake_ocr.calls
    r = post(client, policy=NEVER, latency_budget_ms=2000)
    body = r.json()
    assert body["deadline_hit"] and body["ocr_skipped"] and fake_ocr.calls == calls
    assert body["exit"]["stage"] == "vision" and body["policy"]["latency_budget_ms"] == 2000
    assert body["timings_ms"]["total"] < 2000
    # The header works too, and a generous budget pays for OCR.
    r = client.post(
        "/v1/classify",
        files={"file": ("p.png", png(), "image/png")},
        data={"policy": NEVER},
        headers={"X-Latency-Budget-Ms": "600000"},
    )
    assert not r.json()["deadline_hit"] and r.json()["exit"]["name"] == "mm.3"
    # full_depth is for comparisons: it ignores the deadline.
    full = post(client, full_depth="true", latency_budget_ms=1).json()
    assert not full["deadline_hit"] and full["exit"]["name"] == "mm.3"


def test_multimodal_deadline_stops_between_layers(client: TestClient) -> None:
    engine = state_of(client.app).engine
    for _ in range(50):
        engine.latency.observe("mm.1", 5.0)
    words = {"words": [{"text": "Total", "box": [1, 1, 20, 9]}]}
    body = post(client, policy=NEVER, latency_budget_ms=1500, ocr=json.dumps(words)).json()
    assert body["deadline_hit"] and body["exit"]["name"] in (
        "emb.text_avg",
        "emb.concat",
        "emb.vision_avg",
        "vision.1",
        "vision.2",
        "vision.3",
    )
    assert body["timings_ms"]["total"] < 1500


def test_bad_inputs_are_problems(client_factory: Callable[..., TestClient]) -> None:
    client = client_factory(max_upload_bytes=20_000, max_pixels=500_000)
    assert_problem(post(client, b"just some text"), 415)
    assert_problem(post(client, b"\x89PNG\r\n\x1a\n broken"), 422)
    assert_problem(post(client, png((1000, 1000), 0)), 413)  # pixels
    noisy = bytes(range(256)) * 200
    assert_problem(post(client, b"\x89PNG\r\n\x1a\n" + noisy), 413)  # bytes
    huge = b"\x89PNG\r\n\x1a\n" + b"\x01" * (3 * 1024 * 1024)  # over upload + form overhead
    assert "request body" in assert_problem(post(client, huge), 413)["detail"]
    chunked = client.post(  # no Content-Length: counted while streaming
        "/v1/classify",
        content=(b"x" * 65536 for _ in range(64)),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_problem(chunked, 413)
    assert_problem(post(client, page=3), 422)
    assert_problem(post(client, latency_budget_ms=-5), 422)
    assert_problem(post(client, policy="no-such-policy"), 422)
    assert_problem(post(client, policy='{"name": "global"}'), 422)  # tau missing
    body = assert_problem(post(client, ocr='{"words": [{"text": 1}]}'), 422)
    assert body["errors"]
    missing = client.post("/v1/classify", data={"page": "0"})
    assert_problem(missing, 422)
    assert_problem(client.get("/nowhere"), 404)


@pytest.mark.parametrize(
    "policy",
    [
        '{"name": "global", "tau": "0.9"}',
        '{"name": "global", "tau": null}',
        '{"name": "global", "tau": NaN}',
        '{"name": "gate", "tau": true}',
        '{"name": "per_exit", "taus": 0.5}',
        '{"name": "per_exit", "taus": {"mm.1": Infinity}}',
        '{"name": "patience", "k": "3"}',
        '{"name": "similarity", "image": [], "text": 0.5}',
    ],
)
def test_a_policy_knob_of_the_wrong_type_is_a_422(client: TestClient, policy: str) -> None:
    # Found by tests/reliability/test_openapi_fuzz.py: these were built unchecked and failed
    # mid-request (a comparison with None, str.get, ...) as a 500, or echoed NaN as null.
    body = assert_problem(post(client, policy=policy), 422)
    assert body["errors"][0]["loc"][0] == "policy"


def test_a_full_queue_answers_503_with_retry_after(
    client_factory: Callable[..., TestClient],
) -> None:
    slow = FakeOcr()
    slow.release.clear()
    client = client_factory(ocr=slow, workers=1, queue_size=0)
    first: dict[str, int] = {}
    thread = threading.Thread(
        target=lambda: first.update(status=post(client, policy=NEVER).status_code)
    )
    thread.start()
    try:
        for _ in range(200):  # until the first request holds the only worker
            if slow.calls:
                break
            threading.Event().wait(0.01)
        r = post(client, policy=NEVER)
        body = assert_problem(r, 503)
        assert r.headers["retry-after"] == "1" and "busy" in body["detail"]
    finally:
        slow.release.set()
        thread.join(10)
    assert first["status"] == 200


def test_not_ready_until_loaded(
    client_factory: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    original = conftest.loader_for

    def slow_loader(ocr: FakeOcr) -> Callable[[Settings], Engine]:
        load = original(ocr)

        def wrapped(settings: Settings) -> Engine:
            gate.wait(10)
            return load(settings)

        return wrapped

    monkeypatch.setattr(conftest, "loader_for", slow_loader)
    client = client_factory(ready=False)
    assert client.get("/livez").status_code == 200
    body = assert_problem(client.get("/readyz"), 503)
    assert "loading" in body["detail"]
    assert_problem(post(client), 503)
    assert_problem(client.get("/v1/model"), 503)
    gate.set()
    conftest.wait_ready(client)
    assert "warmed" in client.get("/readyz").json()["detail"]


def test_openapi_documents_every_error_as_problem_json(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "Problem" in doc["components"]["schemas"]
    responses = doc["paths"]["/v1/classify"]["post"]["responses"]
    for status in ("200", "413", "415", "422", "503"):
        assert status in responses
    assert "application/problem+json" in responses["413"]["content"]
    for path in ("/admin/v1/latency-budget", "/admin/v1/policy"):
        assert "401" in doc["paths"][path]["put"]["responses"]
    assert "Classification" in doc["components"]["schemas"]
