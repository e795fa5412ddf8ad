"""POST /v1/classify: one page through the anytime cascade under the policy and budget in force."""

from __future__ import annotations

import json
import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Request, UploadFile

from models.ood import Verdict
from service import errors
from service.budget import Choice, resolve, thresholds_of
from service.config_store import RuntimeConfig
from service.deadline import Deadline
from service.deps import EngineDep, MetricsDep, QueueDep, SettingsDep, StoreDep
from service.engine import Engine, Result
from service.guarantee import epsilon_in_force, guarantee_of
from service.precedence import InForce, in_force
from service.pressure import Admission, Backlog, admit
from service.schemas import (
    Classification,
    DegradationInfo,
    ExitInfo,
    ModelRef,
    PolicyInfo,
    Timings,
    TopK,
)
from service.settings import MAX_BUDGET_MS, Settings
from service.state import state_of

router = APIRouter(tags=["classify"])
TOP_K = 5


def parse_policy(raw: str | None) -> str | dict[str, Any] | None:
    """A policy name, or a JSON object such as {"name": "global", "tau": 0.9}."""
    if raw is None or raw == "":
        return None
    if raw.lstrip().startswith("{"):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise errors.invalid(f"policy is not valid JSON: {exc.msg}") from exc
        except RecursionError as exc:  # 4 KiB of "[[[[..." nests deeper than the parser's stack
            raise errors.invalid("policy is JSON nested too deeply to be a policy") from exc
        if not isinstance(value, dict):
            raise errors.invalid("a JSON policy must be an object with a name")
        return value
    return raw


def choose(
    engine: Engine,
    settings: Settings,
    config: RuntimeConfig,
    policy: str | dict[str, Any] | None,
    budget_ms: int | None,
    full_depth: bool,
) -> tuple[Choice, InForce | None]:
    """Request values first, then the admin-set runtime config, then the settings; with the
    values in force (None: full depth, which has none)."""
    if full_depth:
        full = Choice(None, "full_depth", {}, "request")
        full.guarantee = guarantee_of(None, engine.card, epsilon_in_force(engine.card))
        return full, None
    chosen = in_force(settings, config, policy, budget_ms)
    return resolved(engine, chosen, chosen.budget_ms), chosen


def resolved(engine: Engine, chosen: InForce, budget_ms: int | None) -> Choice:
    epsilon = epsilon_in_force(engine.card, chosen.epsilon)
    return resolve(chosen.spec, chosen.source, budget_ms, engine.card, engine.latency, epsilon)


def admission(
    engine: Engine,
    backlog: Backlog,
    settings: Settings,
    config: RuntimeConfig,
    choice: Choice,
    chosen: InForce | None,
) -> Admission:
    """How the request runs given the work ahead of it (service.pressure): as chosen, or
    shallower under load, or refused (503)."""
    budget_ms = None if chosen is None else chosen.budget_ms
    degrade = settings.degrade if config.degrade is None else config.degrade

    def shallower(seconds: float) -> Choice:
        assert chosen is not None  # full depth is never degraded
        return resolved(engine, chosen, max(1, round(seconds * 1000.0)))

    return admit(
        engine.prices,
        backlog,
        choice,
        None if budget_ms is None else budget_ms / 1000.0,
        shallower,
        degrade=degrade and chosen is not None,
        target_s=settings.degrade_target_s,
    )


def degradation_info(admitted: Admission) -> DegradationInfo | None:
    d = admitted.degradation
    if d is None:
        return None
    return DegradationInfo(
        rung=d.rung,
        expected_wait_ms=round(d.expected_wait_s * 1000.0, 3),
        target_ms=round(d.target_s * 1000.0, 3),
        pressure_budget_ms=round(d.pressure_budget_s * 1000.0, 3),
    )


def build_response(
    engine: Engine,
    result: Result,
    admitted: Admission,
    budget: int | None,
    total_s: float,
    rid: str,
) -> Classification:
    choice = admitted.choice
    answer = result.outcome.answer
    verdict = engine.judge(result.outcome)
    # Abstaining gives no label rather than a confident wrong one; top_k still shows the guess.
    abstain = engine.settings.abstain and not verdict.in_distribution
    ranked = sorted(range(len(answer.probs)), key=lambda i: -answer.probs[i])[:TOP_K]
    thresholds = {k: v for k, v in thresholds_of(choice, engine.exits).items() if math.isfinite(v)}
    ms = {k: round(v * 1000.0, 3) for k, v in result.seconds.items()}
    return Classification(
        label=None if abstain else engine.labels[answer.prediction],
        confidence=answer.confidence,
        top_k=[TopK(label=engine.labels[i], confidence=answer.probs[i]) for i in ranked],
        in_distribution=verdict.in_distribution,
        ood_score=verdict.score,
        abstained_reason=abstained_reason(engine, verdict, answer.name) if abstain else None,
        exit=ExitInfo(
            stage="vision" if answer.stage == "vision" else "multimodal",
            layer=result.outcome.layer,
            num_layers=engine.num_layers,
            name=answer.name,
        ),
        ocr_skipped=result.outcome.ocr_skipped,
        ocr_calls=result.outcome.ocr_bands,
        deadline_hit=result.outcome.deadline_hit,
        timings_ms=Timings(
            decode=ms.get("decode", 0.0),
            ocr=ms.get("ocr", 0.0),
            encode=ms.get("encode", 0.0),
            total=round(total_s * 1000.0, 3),
            queue=ms.get("queue", 0.0),
        ),
        policy=PolicyInfo(
            name=choice.name,
            thresholds=thresholds or None,
            knob=choice.knob,
            latency_budget_ms=budget,
            source=choice.source,
            expected_accuracy=choice.expected_accuracy,
            guarantee=choice.guarantee or guarantee_of(None, engine.card, None),
            degraded=admitted.degradation is not None,
            degradation=degradation_info(admitted),
        ),
        model=ModelRef(name=engine.name, version=engine.version),
        request_id=rid,
        page=result.page.page,
    )


def abstained_reason(engine: Engine, verdict: Verdict, exit: str) -> str:
    a = engine.abstainer
    assert a is not None  # only an abstainer calls a page out of distribution
    return (
        f"out of distribution: {a.kind} score {verdict.score:.4g} at exit {exit} is "
        f"below the checkpoint's threshold {a.threshold:.4g}; the page is likely none of the "
        f"{len(engine.labels)} classes"
    )


def record(metrics: MetricsDep, engine: Engine, result: Result, total_s: float) -> None:
    out = result.outcome
    if not engine.judge(out).in_distribution:
        metrics.out_of_distribution.inc()
    metrics.exit_layer.labels(stage=out.stage).observe(out.layer)
    for stage in ("decode", "ocr", "encode"):
        if stage != "ocr" or not out.ocr_skipped:
            metrics.duration.labels(stage=stage).observe(result.seconds.get(stage, 0.0))
    metrics.duration.labels(stage="total").observe(total_s)
    if out.ocr_skipped:
        metrics.ocr_skipped.inc()
    if out.deadline_hit:
        metrics.deadline_hit.inc()
    metrics.predictions.labels(**{"class": engine.labels[out.answer.prediction]}).inc()


@router.post(
    "/v1/classify",
    response_model=Classification,
    summary="Classify one page (the first, or the one named by `page`)",
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
) -> Classification:
    start: float = request.state.start
    rid: str = request.state.request_id
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise errors.too_large(f"the upload is over the limit of {settings.max_upload_bytes} bytes")
    config = store.current()
    own_budget = latency_budget_ms or x_latency_budget_ms
    choice, chosen = choose(engine, settings, config, parse_policy(policy), own_budget, full_depth)
    state = state_of(request.app)
    admitted = admission(engine, state.backlog, settings, config, choice, chosen)
    deadline = Deadline(admitted.deadline_s, start)
    ticket = state.backlog.admit(admitted.price_s)

    def serve(enqueued: float) -> Result:
        state.backlog.start(ticket)
        return engine.classify(data, page, ocr, admitted.choice, deadline, enqueued, admitted.cap)

    try:
        result = await queue.run(serve, time.perf_counter())
    finally:
        state.backlog.finish(ticket)
    total = time.perf_counter() - start
    record(metrics, engine, result, total)
    if admitted.degradation is not None:
        metrics.degraded.labels(rung=admitted.degradation.rung).inc()
    budget = None if chosen is None else chosen.budget_ms
    response = build_response(engine, result, admitted, budget, total, rid)
    state.shadow.offer(result, admitted.choice)  # queued, never waited for
    return response
