"""How far a page is from the 16 classes, scored at the exit that answered it.

Pure functions of the answering exit's StepView (models.policies): the same number offline, on
validation traces (models.traces), and live, on the cascade's answer (models.runtime), so the
threshold set on validation pages is the one the service applies. Every score is "higher is
more in-distribution"; a page is out of distribution when its score falls below the threshold.

Scores (each of them tried by `python -m models.ood_eval`, reports/ood/):
- ``msp``: the calibrated maximum softmax probability (Hendrycks & Gimpel), the exit's
  temperature applied, as the policies see it;
- ``energy``: the free energy's negative, T * logsumexp(logits / T) at the exit's temperature
  (Liu et al. 2020): unlike the softmax it keeps how large the logits are overall, which a
  page unlike any class does not make large;
- ``max_logit``: the largest raw logit (Hendrycks et al. 2022);
- ``neg_entropy``: minus the calibrated distribution's entropy, which counts every class rather
  than the top one;
- ``mahalanobis``: minus the pooled state's distance to the nearest class, fit on training
  pages (models.ood_features): the one that looks at the page's features, not its logits;
- ``mahalanobis_path``: the same distance averaged over every exit the page met up to the
  answering one (each over its fit pages' median distance), all of which the cascade computed
  anyway: a page answered late was looked at by more exits.
- ``mahalanobis_contrast``: as ``mahalanobis_path``, and a page nearer to the out-of-scope
  training pages' mean (models.ood_features negatives: code printouts, which lie among the
  classes) than to any class is pushed out by the difference; a page far from both is scored as
  ``mahalanobis_path`` scores it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from models.ood_features import STATS, FeatureStats
from models.policies import StepView

if TYPE_CHECKING:
    from models.card import Card

Score = Callable[[StepView, float], float]  # (answering exit, its temperature) -> score


def _logits(view: StepView) -> tuple[float, ...]:
    if view.logits is None:
        raise ValueError(f"exit {view.name} carries no logits: the score needs them")
    return view.logits


def _logsumexp(values: Sequence[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def msp(view: StepView, temperature: float) -> float:  # noqa: ARG001 (one Score signature)
    return view.confidence  # already calibrated with the exit's temperature


def energy(view: StepView, temperature: float) -> float:
    t = temperature if temperature > 0 else 1.0
    return t * _logsumexp([z / t for z in _logits(view)])


def max_logit(view: StepView, temperature: float) -> float:  # noqa: ARG001
    return max(_logits(view))


def neg_entropy(view: StepView, temperature: float) -> float:  # noqa: ARG001
    return sum(p * math.log(p) for p in view.probs if p > 0.0)


SCORES: dict[str, Score] = {
    "msp": msp,
    "energy": energy,
    "max_logit": max_logit,
    "neg_entropy": neg_entropy,
}


FEATURE_SCORES = ("mahalanobis", "mahalanobis_path", "mahalanobis_contrast")  # FeatureStats
CONTRAST = "mahalanobis_contrast"  # needs statistics fit with negatives
KINDS = (*SCORES, *FEATURE_SCORES)


def _features(view: StepView) -> torch.Tensor:
    if view.features is None:
        raise ValueError(f"exit {view.name} carries no features: the score needs them")
    return torch.tensor([view.features])


def score(
    kind: str,
    view: StepView,
    temperatures: dict[str, float],
    stats: FeatureStats | None = None,
    steps: Sequence[StepView] = (),
) -> float:
    """`view`: the answering exit; `steps`: every exit the page met on its way, in order
    (Prediction.steps), which only ``mahalanobis_path`` reads."""
    if kind in SCORES:
        return SCORES[kind](view, temperatures.get(view.name, 1.0))
    if kind not in FEATURE_SCORES:
        raise ValueError(f"unknown OOD score {kind!r}; choose one of {sorted(KINDS)}")
    if stats is None:
        raise ValueError(f"the {kind} score needs feature statistics (models.ood_features)")
    if kind == "mahalanobis":
        return -float(stats.distance(view.name, _features(view))[0])
    # Every exit the page met says how far it is, each over its own fit pages' median: a
    # page that answers late has been looked at by more exits, and one of them may see it.
    met = list(steps) or [view]
    total = 0.0
    for v in met:
        inside = float(stats.distance(v.name, _features(v), True)[0])
        if kind == CONTRAST:
            outside = float(stats.negative_distance(v.name, _features(v))[0])
            inside += max(0.0, inside - outside)
        total += inside
    return -total / len(met)


@dataclass(frozen=True)
class Abstainer:
    """A score and the threshold below which a page is called out of distribution."""

    kind: str
    threshold: float
    temperatures: dict[str, float]
    stats: FeatureStats | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown OOD score {self.kind!r}; choose one of {sorted(KINDS)}")
        if self.kind in FEATURE_SCORES and self.stats is None:
            raise ValueError(f"the {self.kind} score needs feature statistics")
        if self.kind == CONTRAST and not (self.stats and self.stats.has_negatives):
            raise ValueError(f"the {self.kind} score needs statistics fit with negatives")
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be finite, not {self.threshold}")

    def score(self, view: StepView, steps: Sequence[StepView] = ()) -> float:
        return score(self.kind, view, self.temperatures, self.stats, steps)

    def in_distribution(self, view: StepView, steps: Sequence[StepView] = ()) -> bool:
        return self.score(view, steps) >= self.threshold

    @classmethod
    def from_card(cls, card: Card, folder: Path) -> Abstainer | None:
        """The abstention of the checkpoint in `folder` (models.ood_eval wrote it, with its
        feature statistics where the score needs them); None where its card has none."""
        a = card.abstention
        if a is None:
            return None
        stats = None
        if a.features_sha256 is not None:
            stats = FeatureStats.load(folder / STATS, a.features_sha256)
        return cls(a.score, a.threshold, dict(card.temperatures), stats)


@dataclass(frozen=True)
class Verdict:
    score: float
    in_distribution: bool


def judge(abstainer: Abstainer | None, view: StepView, steps: Sequence[StepView] = ()) -> Verdict:
    """One answer's score and verdict (`steps`: the exits met, see score). Without an
    abstention (older cards) no page is called out of distribution, and the score given is the
    calibrated confidence."""
    if abstainer is None:
        return Verdict(view.confidence, True)
    value = abstainer.score(view, steps)
    return Verdict(value, value >= abstainer.threshold)


def auroc(inside: Sequence[float], outside: Sequence[float]) -> float:
    """Probability that an in-distribution page scores higher than an out-of-distribution one
    (ties count half): the Mann-Whitney statistic, over every pair."""
    if not inside or not outside:
        raise ValueError("AUROC needs pages on both sides")
    ordered = sorted(outside)
    total = 0.0
    for s in inside:
        below = _count_below(ordered, s)
        equal = _count_below(ordered, s, inclusive=True) - below
        total += below + 0.5 * equal
    return total / (len(inside) * len(outside))


def _count_below(ordered: Sequence[float], value: float, inclusive: bool = False) -> int:
    lo, hi = 0, len(ordered)
    while lo < hi:
        mid = (lo + hi) // 2
        if ordered[mid] < value or (inclusive and ordered[mid] == value):
            lo = mid + 1
        else:
            hi = mid
    return lo


def threshold_at(inside: Sequence[float], abstain: float) -> float:
    """The highest threshold that abstains on at most an `abstain` share of `inside` (pages
    scoring exactly the threshold are kept): set on in-distribution validation pages only."""
    if not inside:
        raise ValueError("no pages to set a threshold on")
    if not 0.0 <= abstain < 1.0:
        raise ValueError(f"abstain share must be in [0, 1), not {abstain}")
    ordered = sorted(inside)
    allowed = math.floor(abstain * len(ordered))  # pages that may fall below
    return ordered[allowed]


def abstained(scores: Sequence[float], threshold: float) -> float:
    """Share of pages whose score falls below the threshold."""
    return sum(s < threshold for s in scores) / len(scores) if scores else 0.0
