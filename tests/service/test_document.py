"""POST /v1/classify with `pages` on the tiny checkpoint: a document's pages read in order under
one deadline, pooled, and stopped once the pool is sure; the same page limits and errors as one
page; the pages read exported."""

from __future__ import annotations

import io

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from models.document import DocumentPool
from models.document_fit import AnsweredDocument, simulate
from service.config_store import RuntimeConfig
from service.deadline import Deadline
from service.document import DocumentRun, PageSpan, read_document
from service.routes.admitted import choose
from service.state import state_of
from tests.service.conftest import assert_problem

NEVER = DocumentPool(threshold=2.0)  # calibrated confidences never reach it
AT_ONCE = DocumentPool(threshold=1e-6)  # any answer passes it


def document(pages: int, kind: str = "PDF") -> bytes:
    frames = [Image.new("L", (120, 160), 255 - 40 * i) for i in range(pages)]
    buf = io.BytesIO()
    frames[0].save(buf, kind, save_all=True, append_images=frames[1:])
    return buf.getvalue()


def post_document(client: TestClient, data: bytes, **form: object) -> httpx.Response:
    fields = {k: str(v) for k, v in form.items()}
    return client.post("/v1/classify", files={"file": ("doc", data)}, data=fields)


def use_pool(client: TestClient, pool: DocumentPool) -> None:
    engine = state_of(client.app).engine
    assert engine is not None
    engine.card = engine.card.updated(document=pool)


@pytest.mark.parametrize("kind", ["PDF", "TIFF"])
def test_every_page_is_read_in_order_when_the_pool_is_never_sure(
    client: TestClient, kind: str
) -> None:
    use_pool(client, NEVER)
    r = post_document(client, document(3, kind), pages="all")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pages_read"] == [0, 1, 2] == [p["page"] for p in body["pages"]]
    assert body["page_count"] == 3 and body["pages_requested"] == [0, 2]
    assert body["stopped"] == "all_read" and body["pool"]["threshold"] == 2.0
    assert body["top_k"][0] == {"label": body["label"], "confidence": body["confidence"]}
    assert all(p["cascade"] and p["request_id"] == body["request_id"] for p in body["pages"])
    assert body["timings_ms"]["total"] >= body["timings_ms"]["pages"] > 0


def test_a_sure_pool_stops_after_the_first_page_and_full_depth_reads_on(
    client: TestClient,
) -> None:
    use_pool(client, AT_ONCE)
    data = document(4)
    sure = post_document(client, data, pages="all").json()
    assert sure["pages_read"] == [0] and sure["stopped"] == "confident"
    # The page's own answer is the document's when only it was read (pooling one page at T=1).
    assert sure["label"] == sure["pages"][0]["label"]
    assert sure["confidence"] == pytest.approx(sure["pages"][0]["confidence"], rel=1e-6)
    full = post_document(client, data, pages="all", full_depth="true").json()
    assert full["pages_read"] == [0, 1, 2, 3] and full["stopped"] == "all_read"
    assert {p["exit"]["name"] for p in full["pages"]} == {full["pages"][0]["cascade"][-1]["name"]}


def test_a_range_reads_only_its_pages(client: TestClient) -> None:
    use_pool(client, NEVER)
    body = post_document(client, document(5), pages="1-3").json()
    assert body["pages_read"] == [1, 2, 3] and body["pages_requested"] == [1, 3]
    assert post_document(client, document(5), pages="4").json()["pages_read"] == [4]


def test_a_spent_budget_stops_reading_after_one_page(client: TestClient) -> None:
    use_pool(client, NEVER)
    body = post_document(client, document(4), pages="all", latency_budget_ms=1).json()
    assert body["pages_read"] == [0] and body["stopped"] == "deadline"


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"pages": "0-9"}, "do not exist"),
        ({"pages": "3-1"}, "ends before it starts"),
        ({"pages": "first"}, "pages"),
        ({"pages": "all", "page": 1}, "not both"),
        ({"pages": "all", "ocr": '{"words": []}'}, "one page"),
    ],
)
def test_bad_requests_answer_422(client: TestClient, form: dict[str, object], says: str) -> None:
    body = assert_problem(post_document(client, document(2), **form), 422)
    assert says in str(body["detail"]) or says in str(body.get("errors", ""))


def test_the_page_limit_still_holds(client_factory: object) -> None:
    client = client_factory(max_pages=2)  # type: ignore[operator]
    assert_problem(post_document(client, document(3), pages="all"), 413)


def test_a_document_longer_than_the_request_limit_is_refused(client_factory: object) -> None:
    client = client_factory(max_document_pages=2)  # type: ignore[operator]
    assert (
        "DOCEXIT_MAX_DOCUMENT_PAGES"
        in assert_problem(post_document(client, document(3), pages="all"), 413)["detail"]
    )
    assert_problem(post_document(client, document(3), pages="0-2"), 413)
    assert post_document(client, document(3), pages="1-2").json()["pages_read"] == [1, 2]


def test_the_model_describes_the_pool_in_force(client: TestClient) -> None:
    use_pool(client, DocumentPool(rest_weight=0.4, threshold=0.8))
    described = client.get("/v1/model").json()["document"]
    assert described["rest_weight"] == 0.4 and described["threshold"] == 0.8


def test_pages_read_are_exported(client: TestClient) -> None:
    use_pool(client, AT_ONCE)
    post_document(client, document(3), pages="all")
    text = client.get("/metrics").text
    assert 'docexit_document_pages_read_count{stopped="confident"} 1.0' in text
    assert 'docexit_document_pages_read_bucket{le="1.0",stopped="confident"} 1.0' in text


def test_the_offline_fit_reads_the_pages_the_service_reads(client: TestClient) -> None:
    """The pool is fitted on recorded page answers (models.document_fit.simulate): replayed, they
    must stop where the live reader stops, for pools that stop after different pages."""
    engine = state_of(client.app).engine
    assert engine is not None
    data, span = document(5), PageSpan.parse("all")
    choice, _ = choose(engine, engine.settings, RuntimeConfig(), None, None, False)

    def live(pool: DocumentPool) -> DocumentRun:
        return read_document(engine, data, span, choice, Deadline(None), 0.0, pool=pool)

    pages = [list(r.outcome.answer.probs) for r in live(NEVER).results]
    recorded = AnsweredDocument("doc", 0, pages)
    pooled = [max(NEVER.combine(pages[:k])) for k in range(1, 6)]
    thresholds = sorted({min(1.0, c + 1e-9) for c in pooled}) + [2.0]
    stops = set()
    for tau in thresholds:
        pool = DocumentPool(rest_weight=0.5, temperature=0.7, threshold=tau)
        run = live(pool)
        assert simulate(pool, recorded) == (run.reading.prediction, len(run.reading.read))
        stops.add(len(run.reading.read))
    assert len(stops) >= 2  # the pools did stop at different pages
