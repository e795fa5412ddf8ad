"""Fit the document pool (models.document) on documents whose pages were answered by the cascade:
the weights and temperature by the documents' log-loss at every prefix (reading may stop after
any page, so every prefix must be calibrated), then the stopping threshold as the one that reads
the fewest pages while staying as accurate as pooling every page. Reported by cross-validation
over documents as well, so the figures do not only describe the documents it was fitted on."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.document import FLOOR, DocumentMetrics, DocumentPool, read

REST_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
TEMPERATURES = tuple(round(0.5 * 1.15**k, 4) for k in range(20))  # 0.5 .. ~7
GROWTHS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999)
# Accuracy the threshold may give up against pooling every page: one document in fifty. With a
# few dozen validation documents, zero would pick whatever threshold happens to tie on them.
TOLERANCE = 0.02


@dataclass(frozen=True)
class AnsweredDocument:
    name: str
    label: int
    pages: list[list[float]]  # each page's calibrated answer, in reading order


@dataclass(frozen=True)
class Prefixes:
    """Every prefix of every document, as arrays: the first page's log-probabilities, the sum
    of the later pages' read so far, the pages read, and the document's class."""

    first: np.ndarray  # [N, C]
    rest: np.ndarray  # [N, C]
    pages: np.ndarray  # [N]
    label: np.ndarray  # [N]

    @classmethod
    def of(cls, docs: Sequence[AnsweredDocument]) -> Prefixes:
        first, rest, pages, label = [], [], [], []
        for doc in docs:
            logs = np.log(np.maximum(np.asarray(doc.pages, dtype=np.float64), FLOOR))
            cumulative = np.cumsum(logs[1:], axis=0)
            for k in range(1, len(doc.pages) + 1):
                first.append(logs[0])
                rest.append(cumulative[k - 2] if k > 1 else np.zeros_like(logs[0]))
                pages.append(k)
                label.append(doc.label)
        return cls(np.stack(first), np.stack(rest), np.asarray(pages), np.asarray(label))

    def log_loss(self, pool: DocumentPool) -> float:
        """Mean negative log-likelihood of the documents' classes over every prefix; the
        same arithmetic as DocumentPool.combine, on all prefixes at once."""
        t = pool.temperature * (1.0 + pool.growth * (self.pages - 1))
        scores = (pool.first_weight * self.first + pool.rest_weight * self.rest) / t[:, None]
        top = scores.max(axis=1, keepdims=True)
        log_z = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))
        return float(np.mean(log_z - scores[np.arange(len(self.label)), self.label]))


def prefix_log_loss(pool: DocumentPool, docs: Sequence[AnsweredDocument]) -> float:
    return Prefixes.of(docs).log_loss(pool)


def simulate(
    pool: DocumentPool, doc: AnsweredDocument, every_page: bool = False
) -> tuple[int, int]:
    """(prediction, pages read) as the live reader would, from the recorded page answers."""
    reading = read(pool, range(len(doc.pages)), lambda i: doc.pages[i], every_page=every_page)
    return reading.prediction, len(reading.read)


def measure(pool: DocumentPool, docs: Sequence[AnsweredDocument]) -> dict[str, float]:
    stopped = [simulate(pool, d) for d in docs]
    every = [simulate(pool, d, every_page=True) for d in docs]
    first = [max(range(len(d.pages[0])), key=d.pages[0].__getitem__) for d in docs]
    n = len(docs)
    return {
        "accuracy": sum(p == d.label for (p, _), d in zip(stopped, docs, strict=True)) / n,
        "accuracy_all_pages": sum(p == d.label for (p, _), d in zip(every, docs, strict=True)) / n,
        "accuracy_first_page": sum(p == d.label for p, d in zip(first, docs, strict=True)) / n,
        "mean_pages_read": sum(k for _, k in stopped) / n,
        "mean_pages": sum(len(d.pages) for d in docs) / n,
    }


def fit_calibration(docs: Sequence[AnsweredDocument]) -> DocumentPool:
    """Weights, temperature and its growth by prefix log-loss (the threshold left at never)."""
    prefixes = Prefixes.of(docs)
    grid = itertools.product(REST_WEIGHTS, TEMPERATURES, GROWTHS)
    pools = (
        DocumentPool(rest_weight=w, temperature=t, growth=g, threshold=2.0) for w, t, g in grid
    )
    return min(pools, key=prefixes.log_loss)


def fit_pool(docs: Sequence[AnsweredDocument], tolerance: float = TOLERANCE) -> DocumentPool:
    """The calibration, then the threshold that reads the fewest pages while as accurate as
    pooling every page (within `tolerance`)."""
    best = fit_calibration(docs)
    target = measure(best, docs)["accuracy_all_pages"] - tolerance

    def cost(tau: float) -> tuple[float, float]:
        m = measure(best.model_copy(update={"threshold": tau}), docs)
        # As accurate as reading everything, then the fewest pages; else the most accurate.
        return (max(0.0, target - m["accuracy"]), m["mean_pages_read"])

    return best.model_copy(update={"threshold": min(THRESHOLDS, key=cost)})


def folds(docs: Sequence[AnsweredDocument], k: int) -> list[list[AnsweredDocument]]:
    """k folds of whole documents, each class dealt round the folds in turn."""
    out: list[list[AnsweredDocument]] = [[] for _ in range(k)]
    for i, doc in enumerate(sorted(docs, key=lambda d: (d.label, d.name))):
        out[i % k].append(doc)
    return out


def cross_validate(
    docs: Sequence[AnsweredDocument], k: int = 2, threshold: float | None = None
) -> dict[str, float]:
    """The pool fitted on k-1 folds and measured on the left-out one, pooled over documents;
    threshold: this one instead of the fitted one."""
    parts = folds(docs, k)
    sums: dict[str, float] = {}
    for i, held in enumerate(parts):
        train = [d for j, p in enumerate(parts) if j != i for d in p]
        if threshold is None:
            pool = fit_pool(train)
        else:
            pool = fit_calibration(train).model_copy(update={"threshold": threshold})
        for key, value in measure(pool, held).items():
            sums[key] = sums.get(key, 0.0) + value * len(held)
    return {key: round(value / len(docs), 4) for key, value in sums.items()}


def fitted(docs: Sequence[AnsweredDocument], data: list[str], k: int = 2) -> DocumentPool:
    """The card's pool: fitted on every document, with its figures and the cross-validated ones."""
    pool = fit_pool(docs)
    m = measure(pool, docs)
    metrics = DocumentMetrics(
        documents=len(docs),
        pages=sum(len(d.pages) for d in docs),
        cross_validated=cross_validate(docs, k),
        **{key: round(value, 4) for key, value in m.items()},
    )
    return pool.model_copy(update={"data": data, "metrics": metrics})
