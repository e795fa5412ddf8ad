"""Batching in the service (DOCEXIT_MAX_BATCH): concurrent pages share encoder passes and get
the answers they get with batching off."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from service.state import state_of
from tests.service.conftest import assert_problem
from tests.service.test_metrics import value

POLICIES = [
    '{"name": "global", "tau": 0.0}',  # the first exit
    '{"name": "global", "tau": 0.088}',
    '{"name": "global", "tau": 0.095}',
    '{"name": "global", "tau": 0.999}',  # the last
]


def page(seed: int) -> tuple[bytes, dict[str, str]]:
    """A page and form of its own: blocks, a size, a policy, and for some its own words."""
    rng = random.Random(seed)
    image = Image.new("L", (70 + 9 * (seed % 4), 100), 255)
    for _ in range(8):
        x, y = rng.randrange(60), rng.randrange(90)
        image.paste(rng.randrange(220), (x, y, x + 12, y + 9))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    form = {"policy": POLICIES[seed % len(POLICIES)]}
    if seed % 3 == 0:  # own words, of differing lengths: padded together in a batch
        words = [
            {"text": f"w{rng.randrange(900)}", "box": [2, 2 + i, 9, 4 + i]}
            for i in range(seed % 11 + 1)
        ]
        form["ocr"] = json.dumps({"words": words})
    if seed % 8 == 5:
        form["full_depth"] = "true"
    return buf.getvalue(), form


def answers(client: TestClient, n: int) -> list[dict[str, Any]]:
    def post(i: int) -> dict[str, Any]:
        data, form = page(i)
        r = client.post("/v1/classify", files={"file": ("p.png", data, "image/png")}, data=form)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(post, range(n)))


def test_32_mixed_pages_get_the_same_answers_with_batching_on_and_off(
    client_factory: Callable[..., TestClient],
) -> None:
    n = 32
    # Degrading under load would make answers depend on timing: off, both ways.
    off = answers(client_factory(workers=2, queue_size=n, degrade=False), n)
    batched = client_factory(workers=2, queue_size=n, max_batch=16, max_wait_ms=50, degrade=False)
    before = batched.get("/metrics").text  # the warm-up's pages went through it too
    on = answers(batched, n)
    assert len({a["exit"]["name"] for a in off}) >= 3  # the pages left at several exits
    for a, b in zip(off, on, strict=True):
        assert (b["label"], b["exit"]["name"]) == (a["label"], a["exit"]["name"])
        assert b["confidence"] == pytest.approx(a["confidence"], abs=1e-4)
        assert [t["label"] for t in b["top_k"]] == [t["label"] for t in a["top_k"]]
    after = batched.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    pages = grew("docexit_batch_pages_sum", stream="vision")
    passes = grew("docexit_batch_pages_count", stream="vision")
    assert pages == n and passes < n  # every page went through the batcher, some together
    assert grew("docexit_batch_layer_pages_total", stream="multimodal", work="run") > 0


def test_a_page_that_reaches_a_closed_batcher_gets_503_not_500(
    client_factory: Callable[..., TestClient],
) -> None:
    client = client_factory(max_batch=4)
    engine = state_of(client.app).engine
    assert engine is not None and engine.batcher is not None
    engine.batcher.close()  # as at shutdown, with a request racing it
    data, form = page(1)
    r = client.post("/v1/classify", files={"file": ("p.png", data, "image/png")}, data=form)
    body = assert_problem(r, 503)
    assert "shutting down" in body["detail"] and r.headers["retry-after"]
