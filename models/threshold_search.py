"""Per-exit thresholds searched on validation traces: the cheapest policy that costs no accuracy.

Every exit gets a threshold from a grid, or none (it never stops a page). A policy's price is the
worse of its two wall-clock ratios to full depth, each against its target (encoder time and
end-to-end time, OCR included, modelled from the measured stage latencies as models.traces
charges them), so the search does not buy OCR savings with encoder time or the reverse. Among
policies that meet both targets with a margin, the more accurate one is preferred: speed beyond
the targets is not bought with accuracy.
A policy is allowed only if
  - it loses at most `max_loss` accuracy, net, against full depth on the same pages, and
  - it gets at most `max_harm` of the pages wrong that full depth gets right.
The second bound keeps an exit from buying its savings with as many broken pages as fixed
ones: on a few hundred pages those fixes are mostly luck and do not carry over (split-half
cross-validation on our validation pages: with a net-loss bound alone, -1.1 +- 1.5 points held
out).

The search is coordinate descent over the thresholds, once for each choice of the last vision
exit the policy runs (which fixes how many vision layers every OCR'd page pays for before its
OCR), keeping the cheapest. Decisions come from the same first-exit rule as policies.first_exit,
vectorised over pages."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from models.card import Latency
from models.plan import EMBED, OCR_PAGE
from models.traces import Trace, trace_cost

log = logging.getLogger("docexit.threshold_search")
GRID = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)


@dataclass
class Table:
    """Traces as arrays: [pages, positions] confidences, predictions and exit ids."""

    names: list[str]  # exit names, cascade order; the first `vision` are vision exits
    vision: int
    confidence: np.ndarray  # [N, M] (-1 past a trace's end)
    prediction: np.ndarray  # [N, M]
    exit_id: np.ndarray  # [N, M] index into names
    last: np.ndarray  # [N] index of each trace's last position
    costs: list[np.ndarray]  # per vision exits run r = 0..vision: [N, M, 2] (encoder, e2e) s

    @classmethod
    def build(cls, traces: Sequence[Trace], latency: Latency) -> Table:
        names = list(dict.fromkeys(v.name for t in traces for v in t.views))
        index = {n: i for i, n in enumerate(names)}
        n, m = len(traces), max(len(t.views) for t in traces)
        conf, pred, ids = np.full((n, m), -1.0), np.zeros((n, m), int), np.zeros((n, m), int)
        for a, t in enumerate(traces):
            for b, v in enumerate(t.views):
                conf[a, b], pred[a, b], ids[a, b] = v.confidence, v.prediction, index[v.name]
        last = np.array([len(t.views) - 1 for t in traces])
        vision = traces[0].vision
        costs = [
            np.array(
                [
                    [trace_cost(t, min(b, len(t.views) - 1), latency, r)[::2] for b in range(m)]
                    for t in traces
                ]
            )
            for r in range(vision + 1)
        ]
        return cls(names, vision, conf, pred, ids, last, costs)

    def decide(self, taus: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """(prediction [N], (encoder, e2e) seconds [N, 2]) of each page under thresholds taus."""
        tau = np.array([taus.get(n, math.inf) for n in self.names])
        rows = np.arange(len(self.last))
        stop = self.confidence >= tau[self.exit_id]
        stop[rows, self.last] = True
        stop &= np.arange(stop.shape[1])[None, :] <= self.last[:, None]
        first = stop.argmax(1)
        run = max((i + 1 for i in range(self.vision) if tau[i] <= 1.0), default=0)
        return self.prediction[rows, first], self.costs[run][rows, first]


def search_per_exit(
    traces: Sequence[Trace],
    labels: Sequence[int],
    latency: Latency,
    *,
    max_loss: float = 0.0,
    max_harm: float = 0.02,
    encoder_target: float = 0.5,
    end_to_end_target: float = 0.6,
    margin: float = 0.1,
    grid: Sequence[float] = GRID,
) -> dict[str, float]:
    """Thresholds (exit -> tau; exits left out never stop a page) of the cheapest allowed policy
    ({} when none is allowed). Full depth is each trace's `full` exit: whole-page OCR and every
    multimodal layer."""
    table = Table.build(traces, latency)
    y = np.asarray(labels)
    full = np.array([t.full.prediction for t in traces]) == y
    stages = latency.stages
    full_encoder = stages[EMBED] + sum(stages[e.name] for e in traces[0].plan.layers)
    full_e2e = full_encoder + latency.ocr_stages[OCR_PAGE]
    goal = 1.0 - margin  # of each target: modelled times are estimates

    def price(taus: dict[str, float]) -> float:
        pred, cost = table.decide(taus)
        right = pred == y
        if full.mean() - right.mean() > max_loss + 1e-12:
            return math.inf
        if (full & ~right).mean() > max_harm + 1e-12:
            return math.inf
        encoder, e2e = cost.mean(0)
        ratio = max(encoder / full_encoder / encoder_target, e2e / full_e2e / end_to_end_target)
        if ratio > goal:
            return float(ratio)
        # Both targets met with the margin: now the more accurate policy is the better one.
        # (Every such score is below `goal`, so it beats every policy that misses it.)
        return float(goal - 1.0 + (1.0 - right.mean()))

    searchable = table.names[:-1]  # the final exit always answers
    best: tuple[float, dict[str, float]] = (price({}), {})  # inf when no policy is allowed
    for run in range(table.vision + 1):
        # The structure: vision exits up to the run-th may fire, the run-th with some threshold.
        pinned = searchable[run - 1] if run else None
        free = searchable[:run] + searchable[table.vision :]
        found = _descend(price, free, {pinned: grid[-1]} if pinned else {}, grid, pinned)
        if found[0] < best[0]:
            best = found
    if math.isinf(best[0]):
        log.warning("no thresholds keep accuracy within %.4f of full depth: never exit", max_loss)
    return dict(best[1])


def _descend(
    price: Callable[[dict[str, float]], float],
    free: Sequence[str],
    taus: dict[str, float],
    grid: Sequence[float],
    pinned: str | None,
) -> tuple[float, dict[str, float]]:
    """Coordinate descent from `taus`: each pass tries every grid threshold (or none, except for
    the pinned exit, which must keep one) on each free exit, keeping any that lowers the price.
    Returns (price, thresholds)."""
    current = price(taus)
    for _ in range(4):  # passes; each only lowers the price, so it stops early
        moved = False
        for name in free:
            options: list[float | None] = list(grid)
            if name != pinned:
                options.append(None)  # no threshold: this exit never stops a page
            for tau in options:
                trial = {k: v for k, v in taus.items() if k != name}
                if tau is not None:
                    trial[name] = tau
                p = price(trial)
                if p < current - 1e-9:
                    current, taus, moved = p, trial, True
        if not moved:
            break
    return current, taus
