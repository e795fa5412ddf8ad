"""The cascade as one page met it, for the response: every exit of the plan in order, what it
said when it ran, and why it did not when it was skipped."""

from __future__ import annotations

import math

from models.plan import CascadePlan
from models.runtime import Prediction
from service.schemas import CascadeStep, Reason


def cascade_steps(
    plan: CascadePlan,
    outcome: Prediction,
    labels: list[str],
    thresholds: dict[str, float],
    full_depth: bool,
    degraded: bool,
) -> list[CascadeStep]:
    """thresholds: the policy's per-exit confidence thresholds (inf: it never stops there)."""
    # With a top band the multimodal exits may be met twice; the page's own pass comes last.
    met = {step.name: step for step in outcome.steps}
    answered = outcome.exit
    tau_answer = thresholds.get(answered, math.inf)
    passed = outcome.answer.confidence >= tau_answer  # the policy stopped it, not the load cap
    out = []
    for exit in plan.exits:
        tau = thresholds.get(exit.name)
        shown = tau if tau is not None and math.isfinite(tau) else None
        step = met.get(exit.name)
        if step is None:
            reason = skip_reason(tau, outcome, full_depth, degraded and not passed)
            out.append(
                CascadeStep(
                    name=exit.name,
                    stage=exit.stage,
                    status="skipped",
                    threshold=shown,
                    reason=reason,
                )
            )
            continue
        is_answer = exit.name == answered
        out.append(
            CascadeStep(
                name=exit.name,
                stage=exit.stage,
                status="answered" if is_answer else "continued",
                confidence=step.confidence,
                label=labels[step.prediction],
                threshold=shown,
                reason=answer_reason(outcome, full_depth) if is_answer else None,
            )
        )
    return out


def answer_reason(outcome: Prediction, full_depth: bool) -> Reason:
    """Why this exit gave the answer."""
    if full_depth:
        return "full_depth"
    return "deadline" if outcome.deadline_hit else "policy"


def skip_reason(tau: float | None, outcome: Prediction, full_depth: bool, capped: bool) -> Reason:
    if full_depth:
        return "full_depth"
    if outcome.deadline_hit:
        return "deadline"
    if tau is not None and tau > 1.0:  # calibrated confidences never pass it: never run
        return "policy"
    return "load" if capped else "policy"
