"""Anytime over pages: a document's pages are read in order and their calibrated answers pooled,
and reading stops once the document is sure. One reader serves the live service (each page run
through the cascade) and the offline fit (each page's recorded answer), so what the fit chooses
is what the service does.

The pool is log-linear: after k pages, score(c) = (w_first · log p_1(c) + w_rest · Σ_{1<i≤k}
log p_i(c)) / T_k with T_k = T · (1 + g · (k - 1)), softmaxed. A document's class is mostly
decided by its first page (a letter's later pages read like any prose, a report's appendix like a
table), so the first page is weighted apart; T recalibrates a page's answer on real documents,
and g the product, which grows overconfident as pages agree (they are not independent)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FLOOR = 1e-9  # a calibrated probability of 0 would veto a class for the whole document
Stopped = Literal["confident", "all_read", "deadline"]


class DocumentMetrics(BaseModel):
    """What the pool measured where it was fitted (models.document_fit)."""

    model_config = ConfigDict(extra="allow")

    documents: int
    pages: int
    accuracy: float  # stopping by the threshold
    accuracy_all_pages: float  # pooling every page
    accuracy_first_page: float
    mean_pages_read: float
    mean_pages: float
    cross_validated: dict[str, float] = {}  # the same, with the pool fitted on the other folds


class DocumentPool(BaseModel):
    """The card's `document` section: how page answers combine and when reading stops."""

    model_config = ConfigDict(extra="allow", frozen=True)

    first_weight: float = Field(default=1.0, ge=0)
    rest_weight: float = Field(default=1.0, ge=0)
    temperature: float = Field(default=1.0, gt=0)
    growth: float = Field(default=0.0, ge=0, description="of the temperature, per page after one")
    threshold: float = Field(default=0.95, gt=0, description="above 1: read every page")
    data: list[str] = []  # what it was fitted on
    metrics: DocumentMetrics | None = None

    def weight(self, index: int) -> float:
        return self.first_weight if index == 0 else self.rest_weight

    def combine(self, pages: Sequence[Sequence[float]]) -> list[float]:
        """The document's calibrated class probabilities from its pages' (in reading order)."""
        assert pages, "a document answer needs at least one page"
        classes = len(pages[0])
        scores = [0.0] * classes
        for i, probs in enumerate(pages):
            w = self.weight(i)
            for c in range(classes):
                scores[c] += w * math.log(max(probs[c], FLOOR))
        top = max(scores)
        t = self.temperature * (1.0 + self.growth * (len(pages) - 1))
        exps = [math.exp((s - top) / t) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]

    def sure(self, probs: Sequence[float]) -> bool:
        return max(probs) >= self.threshold


@dataclass
class Reading:
    probs: list[float]  # the document's, pooled over the pages read
    read: list[int]  # the pages read, in order
    stopped: Stopped

    @property
    def prediction(self) -> int:
        return max(range(len(self.probs)), key=self.probs.__getitem__)

    @property
    def confidence(self) -> float:
        return max(self.probs)


def read(
    pool: DocumentPool,
    pages: Iterable[int],
    answer: Callable[[int], Sequence[float]],
    may_go_on: Callable[[], bool] = lambda: True,
    every_page: bool = False,
) -> Reading:
    """Read `pages` in order; answer(page): its calibrated class probabilities. Stops once the
    pooled answer passes the pool's threshold (never with every_page), or when may_go_on() says
    no page more fits (the deadline). At least one page is always read."""
    answers: list[Sequence[float]] = []
    read_pages: list[int] = []
    probs: list[float] = []
    for page in pages:
        if read_pages and not may_go_on():
            return Reading(probs, read_pages, "deadline")
        answers.append(answer(page))
        read_pages.append(page)
        probs = pool.combine(answers)
        if not every_page and pool.sure(probs):
            return Reading(probs, read_pages, "confident")
    return Reading(probs, read_pages, "all_read")
