"""POST /v1/classify: one page through the anytime cascade under the policy and budget in force;
with `pages`, a document's pages in order until the document is sure (service.routes.document)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Request, UploadFile

from service import errors
from service.deadline import Deadline
from service.deps import EngineDep, MetricsDep, QueueDep, SettingsDep, StoreDep
from service.document import SPAN, SPAN_TEXT, PageSpan, check_length
from service.document_schemas import DocumentClassification
from service.engine import Result
from service.pressure import Admission
from service.routes.admitted import read_upload, run_admitted
from service.routes.answers import build_response, parse_policy, record
from service.routes.document import classify_document
from service.schemas import Classification
from service.settings import MAX_BUDGET_MS
from service.state import state_of

router = APIRouter(tags=["classify"])


@router.post(
    "/v1/classify",
    response_model=Classification | DocumentClassification,
    summary="Classify one page (the first, or the one named by `page`), or a document (`pages`)",
    description="Without `pages`: one page, answered as a Classification. With `pages`: the "
    "document's pages in order, each as one page is, until the pooled document answer is sure "
    "enough (or every requested page was read), answered as a DocumentClassification.",
    # 400: a malformed multipart body, which Starlette cannot parse into form fields.
    responses=errors.responses(400, 413, 415, 422, 503),
)
async def classify(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    store: StoreDep,
    metrics: MetricsDep,
    queue: QueueDep,
    file: Annotated[UploadFile, File(description="PNG, JPEG, TIFF or PDF")],
    page: Annotated[int, Form(ge=0, le=100_000, description="0-based page or frame")] = 0,
    pages: Annotated[
        str | None,
        Form(
            pattern=SPAN.pattern,
            description=f"classify the document: {SPAN_TEXT}; reading stops once it is sure "
            "(full_depth: every page is read)",
        ),
    ] = None,
    latency_budget_ms: Annotated[int | None, Form(gt=0, le=MAX_BUDGET_MS)] = None,
    policy: Annotated[
        str | None,
        Form(max_length=4096, description='a name, or JSON like {"name": "global", "tau": 0.9}'),
    ] = None,
    full_depth: Annotated[bool, Form(description="run the whole model, for comparisons")] = False,
    ocr: Annotated[
        str | None,
        Form(description='own OCR: {"words": [{"text": "...", "box": [x0, y0, x1, y1]}, ...]}'),
    ] = None,
    x_latency_budget_ms: Annotated[int | None, Header(gt=0, le=MAX_BUDGET_MS)] = None,
) -> Classification | DocumentClassification:
    spec, budget = parse_policy(policy), latency_budget_ms or x_latency_budget_ms
    if pages is not None:
        if page:
            raise errors.invalid("send page (one page) or pages (a document), not both")
        if ocr is not None:
            raise errors.invalid("own OCR (ocr) describes one page; it cannot go with pages")
        span = PageSpan.parse(pages)
        if span.last is not None:
            check_length(span.first, span.last, settings)
        data = await read_upload(file, settings)
        return await classify_document(
            request, engine, settings, store, metrics, queue, data, span, spec, budget, full_depth
        )
    data = await read_upload(file, settings)

    def work(admitted: Admission, deadline: Deadline, enqueued: float) -> Result:
        return engine.classify(data, page, ocr, admitted.choice, deadline, enqueued, admitted.cap)

    result, admitted, budget = await run_admitted(
        request, engine, settings, store, metrics, queue, spec, budget, full_depth, work
    )
    total = time.perf_counter() - request.state.start
    record(metrics, engine, result, total)
    response = build_response(engine, result, admitted, budget, total, request.state.request_id)
    state_of(request.app).shadow.offer(result, admitted.choice)  # queued, never waited for
    return response
