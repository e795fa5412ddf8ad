"""What a page answer is made of, shared by /v1/classify (one page, or each page of a document)
and /v1/extract: the policy field parsed, the Classification built, the metrics recorded."""

from __future__ import annotations

import json
import math
from typing import Any

from models.ood import Verdict
from service import errors
from service.budget import thresholds_of
from service.cascade_view import cascade_steps
from service.engine import Engine, Result
from service.guarantee import guarantee_of
from service.metrics import Metrics
from service.pressure import Admission
from service.schemas import (
    Classification,
    DegradationInfo,
    ExitInfo,
    ModelRef,
    PolicyInfo,
    Timings,
    TopK,
)

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
    every = thresholds_of(choice, engine.exits)
    thresholds = {k: v for k, v in every.items() if math.isfinite(v)}
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
        cascade=cascade_steps(
            engine.cascade.plan,
            result.outcome,
            engine.labels,
            every,
            full_depth=choice.policy is None,
            degraded=admitted.degradation is not None,
        ),
    )


def abstained_reason(engine: Engine, verdict: Verdict, exit: str) -> str:
    a = engine.abstainer
    assert a is not None  # only an abstainer calls a page out of distribution
    return (
        f"out of distribution: {a.kind} score {verdict.score:.4g} at exit {exit} is "
        f"below the checkpoint's threshold {a.threshold:.4g}; the page is likely none of the "
        f"{len(engine.labels)} classes"
    )


def record(metrics: Metrics, engine: Engine, result: Result, total_s: float | None) -> None:
    """total_s None: a document's page, whose request's total is recorded once for it."""
    out = result.outcome
    if not engine.judge(out).in_distribution:
        metrics.out_of_distribution.inc()
    metrics.exit_layer.labels(stage=out.stage).observe(out.layer)
    for stage in ("decode", "ocr", "encode"):
        if stage != "ocr" or not out.ocr_skipped:
            metrics.duration.labels(stage=stage).observe(result.seconds.get(stage, 0.0))
    if total_s is not None:
        metrics.duration.labels(stage="total").observe(total_s)
    if out.ocr_skipped:
        metrics.ocr_skipped.inc()
    if out.deadline_hit:
        metrics.deadline_hit.inc()
    metrics.predictions.labels(**{"class": engine.labels[out.answer.prediction]}).inc()
