"""POST /v1/classify with `pages`: the document read page by page (service.document), each page
answered and recorded as a single page is, plus the document's pooled answer and pages read."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request

from service.config_store import ConfigStore
from service.deadline import Deadline
from service.document import DocumentRun, PageSpan, pool_of, read_document
from service.document_schemas import DocumentClassification, DocumentTimings, PoolInfo
from service.engine import Engine, Result
from service.metrics import Metrics
from service.pool import WorkQueue
from service.pressure import Admission
from service.routes.admitted import run_admitted
from service.routes.answers import TOP_K, build_response, record
from service.schemas import Classification, ModelRef, TopK
from service.settings import Settings
from service.state import state_of


async def classify_document(
    request: Request,
    engine: Engine,
    settings: Settings,
    store: ConfigStore,
    metrics: Metrics,
    queue: WorkQueue,
    data: bytes,
    span: PageSpan,
    spec: str | dict[str, Any] | None,
    budget: int | None,
    full_depth: bool,
) -> DocumentClassification:
    def work(admitted: Admission, deadline: Deadline, enqueued: float) -> DocumentRun:
        return read_document(engine, data, span, admitted.choice, deadline, enqueued, admitted.cap)

    run, admitted, budget = await run_admitted(
        request, engine, settings, store, metrics, queue, spec, budget, full_depth, work
    )
    total = time.perf_counter() - request.state.start
    rid = request.state.request_id
    shadow = state_of(request.app).shadow
    answers = []
    for result in run.results:
        seconds = page_seconds(result)
        record(metrics, engine, result, None)
        answers.append(build_response(engine, result, admitted, budget, seconds, rid))
        shadow.offer(result, admitted.choice)  # queued, never waited for
    metrics.duration.labels(stage="total").observe(total)
    metrics.document_pages_read.labels(stopped=run.reading.stopped).observe(len(run.results))
    return document_response(engine, run, answers, total, rid)


def page_seconds(result: Result) -> float:
    """A page's own time within the document: its queue (the first page's), decode, OCR and
    encoder passes."""
    return sum(result.seconds.get(k, 0.0) for k in ("queue", "decode", "ocr", "encode"))


def document_response(
    engine: Engine,
    run: DocumentRun,
    answers: list[Classification],
    total_s: float,
    rid: str,
) -> DocumentClassification:
    probs = run.reading.probs
    ranked = sorted(range(len(probs)), key=lambda i: -probs[i])[:TOP_K]
    # The document abstains only when every page read did: one page of the classes is enough.
    abstain = all(a.label is None for a in answers)
    pool = pool_of(engine)
    return DocumentClassification(
        label=None if abstain else engine.labels[run.reading.prediction],
        confidence=run.reading.confidence,
        top_k=[TopK(label=engine.labels[i], confidence=probs[i]) for i in ranked],
        pages_read=run.reading.read,
        pages_requested=list(run.span),
        page_count=run.page_count,
        stopped=run.reading.stopped,
        pool=PoolInfo(
            first_weight=pool.first_weight,
            rest_weight=pool.rest_weight,
            temperature=pool.temperature,
            growth=pool.growth,
            threshold=pool.threshold,
        ),
        pages=answers,
        policy=answers[0].policy,
        model=ModelRef(name=engine.name, version=engine.version),
        request_id=rid,
        timings_ms=DocumentTimings(
            total=round(total_s * 1000.0, 3),
            pages=round(sum(a.timings_ms.total for a in answers), 3),
        ),
    )
