"""Fit the document pool (models.document) on documents whose pages were answered by the cascade:
the weights and temperature by the documents' log-loss at every prefix (reading may stop after
any page, so every prefix must be calibrated), then the stopping threshold as the one that reads
the fewest pages while staying as accurate as pooling every page. Reported by cross-validation
over documents as well, so the figures do not only describe the documents it was fitted on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from models.document import DocumentMetrics, DocumentPool, read

REST_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
TEMPERATURES = tuple(round(0.25 * 1.25**k, 4) for k in range(20))  # 0.25 .. ~17
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999)


@dataclass(frozen=True)
class AnsweredDocument:
    name: str
    label: int
    pages: list[list[float]]  # each page's calibrated answer, in reading order


def prefix_log_loss(pool: DocumentPool, docs: Sequence[AnsweredDocument]) -> float:
    total, count = 0.0, 0
    for doc in docs:
        for k in range(1, len(doc.pages) + 1):
            total -= math.log(max(pool.combine(doc.pages[:k])[doc.label], 1e-12))
            count += 1
    return total / count


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


def fit_pool(docs: Sequence[AnsweredDocument]) -> DocumentPool:
    """Weights and temperature by prefix log-loss; then the threshold."""
    best = min(
        (
            DocumentPool(rest_weight=w, temperature=t, threshold=2.0)
            for w in REST_WEIGHTS
            for t in TEMPERATURES
        ),
        key=lambda pool: prefix_log_loss(pool, docs),
    )
    target = measure(best, docs)["accuracy_all_pages"]

    def cost(tau: float) -> tuple[float, float]:
        m = measure(best.model_copy(update={"threshold": tau}), docs)
        # As accurate as reading everything, then the fewest pages; else the most accurate.
        return (0.0 if m["accuracy"] >= target else target - m["accuracy"], m["mean_pages_read"])

    return best.model_copy(update={"threshold": min(THRESHOLDS, key=cost)})


def folds(docs: Sequence[AnsweredDocument], k: int) -> list[list[AnsweredDocument]]:
    """k folds of whole documents, each class dealt round the folds in turn."""
    out: list[list[AnsweredDocument]] = [[] for _ in range(k)]
    for i, doc in enumerate(sorted(docs, key=lambda d: (d.label, d.name))):
        out[i % k].append(doc)
    return out


def cross_validate(docs: Sequence[AnsweredDocument], k: int = 2) -> dict[str, float]:
    """The pool fitted on k-1 folds and measured on the left-out one, pooled over documents."""
    parts = folds(docs, k)
    sums: dict[str, float] = {}
    for i, held in enumerate(parts):
        pool = fit_pool([d for j, p in enumerate(parts) if j != i for d in p])
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
