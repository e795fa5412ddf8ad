"""The anytime cascade under a deadline: models.runtime.Cascade.classify itself (vision exits,
OCR of the page's top band, then the rest only if still undecided, multimodal exits one layer
at a time), with two hooks: before every stage the deadline is asked whether the remaining
budget can pay for it at its live moving-average cost, and every stage's measured time feeds
that moving average (OCR answered from the cache excepted)."""

from __future__ import annotations

from PIL import Image

from models.policies import Policy, StepView
from models.runtime import Cascade, OcrFn, Prediction, Words
from service.budget import Deadline, LatencyModel

OCR_STAGES = ("ocr", "ocr.band", "ocr.rest")


def run(
    cascade: Cascade,
    image: Image.Image,
    policy: Policy | None,
    deadline: Deadline,
    latency: LatencyModel,
    ocr: OcrFn | None = None,
    words: Words | None = None,
) -> Prediction:
    """policy None: full depth (no vision stream; OCR; every multimodal layer), deadline ignored,
    as it exists for comparisons. Otherwise at least one exit always answers."""
    first_text = next(
        n for n in cascade.model.config.exit_names() if StepView(n, ()).stage == "multimodal"
    )

    def can_run(stage: str) -> bool:
        # OCR cannot be interrupted and says nothing by itself: it must fit with a text exit.
        cost = latency.get(stage) + (latency.get(first_text) if stage in OCR_STAGES else 0.0)
        return deadline.can_pay(cost)

    def observe(stage: str, seconds: float) -> None:
        # A page read from the OCR cache says nothing about what OCR costs.
        if stage in OCR_STAGES and getattr(ocr, "last_call_cached", False):
            return
        latency.observe(stage, seconds)

    pred = cascade.classify(
        image, ocr=ocr, words=words, policy=policy, can_run=can_run, on_stage=observe
    )
    deadline.hit = pred.deadline_hit
    return pred
