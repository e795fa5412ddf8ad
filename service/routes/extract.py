"""POST /v1/extract: classify one page as /v1/classify does, then read its class's key fields
with the checkpoint's multi-exit decoder (models.decoder), continuing the encoder pass that
classification ran, under the same budget and deadline."""

from __future__ import annotations

import time
from collections import Counter
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Request, UploadFile

from models.extract import Extraction
from service import errors
from service.deadline import Deadline
from service.deps import EngineDep, MetricsDep, QueueDep, SettingsDep, StoreDep
from service.engine import Engine, Result
from service.extract_schemas import DecoderInfo, ExtractedField, ExtractionResponse
from service.extractor import DECODER_POLICIES, decoder_policy, extract_fields
from service.metrics import Metrics
from service.pressure import Admission
from service.routes.admitted import read_upload, run_admitted
from service.routes.answers import build_response, parse_policy, record
from service.settings import MAX_BUDGET_MS

router = APIRouter(tags=["extract"])


def no_decoder(engine: Engine) -> errors.ProblemError:
    return errors.ProblemError(
        404,
        "no-decoder",
        "No field decoder",
        f"checkpoint {engine.name} {engine.version} carries no field decoder, so it serves "
        "/v1/classify alone (a decoder is added by models.train_extract)",
    )


def decoder_info(engine: Engine, policy: str, out: Extraction) -> DecoderInfo:
    assert engine.decoder is not None
    layers = Counter(s.layer for s in out.steps)
    return DecoderInfo(
        policy=policy,
        steps=len(out.steps),
        num_layers=engine.decoder.config.num_layers,
        mean_exit_layer=sum(s.layer for s in out.steps) / len(out.steps) if out.steps else 0.0,
        exit_layers={str(k): v for k, v in sorted(layers.items())},
        decoder_ms=round(out.decoder_seconds * 1000.0, 3),
        memory_ms=round(out.memory_seconds * 1000.0, 3),
        encoder_layers=out.encoder_layers,
        stopped=out.stopped,
    )


def record_decoder(metrics: Metrics, out: Extraction) -> None:
    for s in out.steps:
        metrics.decoder_exit_layer.observe(s.layer)
    metrics.decoder_steps.inc(len(out.steps))


@router.post(
    "/v1/extract",
    response_model=ExtractionResponse,
    summary="Classify one page, then extract its class's key fields",
    responses=errors.responses(400, 404, 413, 415, 422, 503),
)
async def extract(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    store: StoreDep,
    metrics: MetricsDep,
    queue: QueueDep,
    file: Annotated[UploadFile, File(description="PNG, JPEG, TIFF or PDF")],
    page: Annotated[int, Form(ge=0, le=100_000, description="0-based page or frame")] = 0,
    latency_budget_ms: Annotated[int | None, Form(gt=0, le=MAX_BUDGET_MS)] = None,
    policy: Annotated[str | None, Form(max_length=4096, description="as /v1/classify")] = None,
    decoder_policy_name: Annotated[
        str | None,
        Form(
            alias="decoder_policy",
            description=f"one of {list(DECODER_POLICIES)}; unset: the checkpoint's default",
        ),
    ] = None,
    ocr: Annotated[str | None, Form(description="own OCR, as /v1/classify")] = None,
    x_latency_budget_ms: Annotated[int | None, Header(gt=0, le=MAX_BUDGET_MS)] = None,
) -> ExtractionResponse:
    if engine.decoder is None:
        raise no_decoder(engine)
    data = await read_upload(file, settings)
    name, generation = decoder_policy(engine, decoder_policy_name)

    def work(admitted: Admission, deadline: Deadline, enqueued: float) -> tuple[Result, Extraction]:
        result = engine.classify(
            data, page, ocr, admitted.choice, deadline, enqueued, admitted.cap, keep_text=True
        )
        return result, extract_fields(engine, result, deadline, generation)

    spec, budget = parse_policy(policy), latency_budget_ms or x_latency_budget_ms
    (result, out), admitted, budget = await run_admitted(
        request, engine, settings, store, metrics, queue, spec, budget, False, work
    )
    total = time.perf_counter() - request.state.start
    record(metrics, engine, result, total)
    record_decoder(metrics, out)
    classification = build_response(
        engine, result, admitted, budget, total, request.state.request_id
    )
    fields = {
        k: ExtractedField(value=v, confidence=out.confidence.get(k, 0.0))
        for k, v in out.fields.items()
    }
    return ExtractionResponse(
        classification=classification, fields=fields, decoder=decoder_info(engine, name, out)
    )
