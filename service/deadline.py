"""The anytime cascade under a deadline: models.runtime.Cascade.classify itself (vision exits,
OCR of the page's top band, then the whole page only if still undecided, multimodal exits one
layer at a time), with two hooks: before every stage the deadline is asked whether the remaining
budget can pay for it at its live moving-average cost, and every stage's measured time feeds
that moving average (OCR answered from the cache excepted). Under load (service.pressure) a
request may also carry a cap: no whole-page OCR ("band"), or no OCR at all ("vision"); the
most confident exit met by then answers, as when the deadline stops it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image

from models.plan import OCR_BAND, OCR_PAGE, OCR_STAGES
from models.policies import Policy
from models.runtime import Cascade, OcrFn, Prediction, Words
from service.latency_model import LatencyModel

Cap = Literal["band", "vision"]  # the last stage a degraded request may reach
CAPPED: dict[Cap, frozenset[str]] = {
    "band": frozenset({OCR_PAGE}),  # the top band's OCR, never the rest of the page
    "vision": frozenset({OCR_BAND, OCR_PAGE}),  # the vision stream only
}


@dataclass
class Deadline:
    """budget_s None means no deadline."""

    budget_s: float | None
    start: float = field(default_factory=time.perf_counter)

    def remaining(self) -> float:
        if self.budget_s is None:
            return math.inf
        return self.budget_s - (time.perf_counter() - self.start)

    def can_pay(self, seconds: float) -> bool:
        return seconds <= self.remaining()


def run(
    cascade: Cascade,
    image: Image.Image,
    policy: Policy | None,
    deadline: Deadline,
    latency: LatencyModel,
    ocr: OcrFn | None = None,
    words: Words | None = None,
    cap: Cap | None = None,
    keep_text: bool = False,
) -> Prediction:
    """policy None: full depth (no vision stream; OCR; every multimodal layer), deadline and cap
    ignored, as it exists for comparisons. Otherwise at least one exit always answers."""
    first_text = cascade.plan.multimodal[0].name
    capped = CAPPED[cap] if cap is not None else frozenset()
    stopped_by_cap = False

    def can_run(stage: str) -> bool:
        nonlocal stopped_by_cap
        if stage in capped:
            stopped_by_cap = True
            return False
        # OCR cannot be interrupted and says nothing by itself: it must fit with a text exit.
        cost = latency.get(stage) + (latency.get(first_text) if stage in OCR_STAGES else 0.0)
        return deadline.can_pay(cost)

    def observe(stage: str, seconds: float) -> None:
        # A page read from the OCR cache says nothing about what OCR costs.
        if stage in OCR_STAGES and getattr(ocr, "last_call_cached", False):
            return
        latency.observe(stage, seconds)

    outcome = cascade.classify(
        image,
        ocr=ocr,
        words=words,
        policy=policy,
        can_run=can_run,
        on_stage=observe,
        keep_text=keep_text,
    )
    if stopped_by_cap:  # the cap stopped it, not the clock
        outcome.deadline_hit = False
    return outcome
