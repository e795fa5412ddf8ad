"""Numbers from samples: accuracy, exit layers, OCR skips, latency percentiles, throughput."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from loadtests.client import Sample


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return float(np.mean(vals)) if vals else math.nan


def summary(samples: Sequence[Sample]) -> dict[str, Any]:
    """Accuracy and the answer mix over the answered requests; latency in ms (client-side)."""
    ok = [s for s in samples if s.ok]
    ms = [1000.0 * s.latency_s for s in ok]
    return {
        "requests": len(samples),
        "answered": len(ok),
        "status": dict(Counter(str(s.status) for s in samples)),
        "accuracy": mean(float(s.correct) for s in ok),
        "mean_exit_layer": mean(float(s.exit_layer or 0) for s in ok),
        "ocr_skip_rate": mean(float(bool(s.ocr_skipped)) for s in ok),
        "deadline_hit_rate": mean(float(bool(s.deadline_hit)) for s in ok),
        "mean_ms": mean(ms),
        "p50_ms": pct(ms, 50),
        "p95_ms": pct(ms, 95),
        "p99_ms": pct(ms, 99),
        "exits": dict(Counter(s.exit_name for s in ok if s.exit_name)),
        "accuracy_by_difficulty": {
            d: mean(float(s.correct) for s in ok if s.difficulty == d)
            for d in sorted({s.difficulty for s in ok})
        },
    }


def paired(samples: Sequence[Sample], keys: Sequence[str]) -> dict[str, Any]:
    """The pages every variant in `keys` answered: accuracy on exactly those pages, and the
    pages the first variant got wrong that each other got right (and the reverse)."""
    by: dict[str, dict[str, Sample]] = {k: {} for k in keys}
    for s in samples:
        if s.ok and s.variant in by:
            by[s.variant].setdefault(s.page, s)
    common = sorted(set.intersection(*(set(v) for v in by.values()))) if by else []
    out: dict[str, Any] = {"pages": len(common)}
    first = keys[0]
    for k in keys:
        out[f"accuracy_{k}"] = mean(float(by[k][p].correct) for p in common)
        if k != first:
            out[f"{first}_wrong_{k}_right"] = sum(
                not by[first][p].correct and by[k][p].correct for p in common
            )
            out[f"{first}_right_{k}_wrong"] = sum(
                by[first][p].correct and not by[k][p].correct for p in common
            )
    return out


def sign_test(worse: int, better: int) -> float:
    """Two-sided exact sign test over the discordant pages of a paired comparison: how likely a
    split at least this uneven is when neither variant is really more accurate."""
    n, k = worse + better, min(worse, better)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def share(samples: Sequence[Sample], status: int) -> float:
    return mean(float(s.status == status) for s in samples)
