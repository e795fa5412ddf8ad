"""The bench's phases, each within its share of the time plan. Requests to the variants are
interleaved: a page goes to a, b and c in turn (the order rotating), closed-loop chunks
alternate between variants, so that a drift in machine speed falls on every variant alike."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from loadtests.client import Sample, Variant, client, closed_loop, open_loop, send
from loadtests.pages import BenchPage
from loadtests.stats import pct

log = logging.getLogger("docexit.loadtests.phases")
KEYS = ("a", "b", "c")
PROBE_BUDGET_MS = 1  # answers at the first exit, whatever it says: the cascade's floor
HEADROOM = (1.25, 0.020)  # smallest useful budget: the floor's p95 + max(25%, 20 ms)


def rotate(items: Sequence[Any], i: int) -> list[Any]:
    k = i % len(items)
    return [*items[k:], *items[:k]]


class Plan:
    """Seconds per phase: each phase gets its share of what is left when it starts, so one that
    overran (a slow drain) shortens the later ones rather than the whole run."""

    def __init__(self, seconds: float, shares: dict[str, float]) -> None:
        self.end = time.monotonic() + seconds
        self.shares = dict(shares)

    def deadline(self, phase: str) -> float:
        left = max(0.0, self.end - time.monotonic())
        total = sum(self.shares.values())
        part = self.shares.pop(phase) / total if total > 0 else 1.0
        return time.monotonic() + left * part

    def seconds(self, phase: str) -> float:
        return max(0.0, self.deadline(phase) - time.monotonic())

    def extend(self, seconds: float) -> None:
        """A phase outside the plan (one that must cover every page) took this long."""
        self.end += seconds


@dataclass
class Bench:
    pages: list[BenchPage]
    variants: dict[str, Variant]
    workers: int
    client_ocr: bool = False
    progress: bool = True
    min_pages: int = 1
    notes: list[str] = field(default_factory=list)

    def _bar(self, total: int, desc: str) -> tqdm[Any]:
        return tqdm(total=total, desc=desc, unit="page", disable=not self.progress, leave=False)

    # -- a, b, c one request at a time, page by page -----------------------------------------
    def compare(self, deadline: float) -> list[Sample]:
        samples: list[Sample] = []
        t0 = time.monotonic()
        with client() as http, self._bar(len(self.pages), "compare a/b/c") as bar:
            for i, page in enumerate(self.pages):
                if i >= self.min_pages and time.monotonic() > deadline:
                    self.notes.append(f"compare: time share spent after {i} of {len(self.pages)}")
                    break
                for key in rotate(KEYS, i):
                    samples.append(send(http, self.variants[key], page, t0, self.client_ocr))
                bar.update()
        return samples

    # -- accuracy: a and b on every page -----------------------------------------------------
    def accuracy(self, compare: list[Sample], chunk: int = 32) -> list[Sample]:
        """a and b on every page the compare phase did not cover for both (which its time share
        may cut short), `workers` requests at a time, in chunks alternating between a and b: a
        paired comparison over the whole page set, not a prefix. Latency here is under load."""
        done = {k: {s.page for s in compare if s.variant == k and s.ok} for k in ("a", "b")}
        todo = [p for p in self.pages if not (p.page_id in done["a"] and p.page_id in done["b"])]
        samples: list[Sample] = []
        with self._bar(len(todo), "accuracy a/b") as bar:
            for r, i in enumerate(range(0, len(todo), chunk)):
                part = todo[i : i + chunk]
                for key in rotate(("a", "b"), r):
                    samples += closed_loop(self.variants[key], part, self.workers, self.client_ocr)[
                        0
                    ]
                bar.update(len(part))
        return samples

    # -- throughput at saturation: closed loop, the same pages, variants alternating ----------
    def saturation(self, seconds: float, rounds: int, compare: list[Sample]) -> dict[str, Any]:
        """workers + 1 clients per variant over the same pages, in `rounds` chunks with the
        variants' order rotating. How many pages: as many as fit the time share, priced from
        each variant's one-at-a-time latency in the compare phase."""
        concurrency = self.workers + 1
        cost = sum(  # seconds per page, all variants, if the workers stay busy
            float(np.mean([s.latency_s for s in compare if s.variant == k and s.ok] or [1.0]))
            for k in KEYS
        ) / max(1, self.workers)
        n = int(0.85 * seconds / cost) if cost > 0 else len(self.pages)
        n = max(2 * concurrency * rounds, min(n, 4 * len(self.pages)))
        sequence = [self.pages[i % len(self.pages)] for i in range(n)]
        chunk = math.ceil(n / rounds)
        out: dict[str, Any] = {k: {"samples": [], "chunks": []} for k in KEYS}
        for r in range(rounds):
            part = sequence[r * chunk : (r + 1) * chunk]
            for key in rotate(KEYS, r):
                samples, makespan = closed_loop(
                    self.variants[key], part, concurrency, self.client_ocr
                )
                done = sum(1 for s in samples if s.ok)
                out[key]["samples"] += samples
                out[key]["chunks"].append({"seconds": makespan, "answered": done})
                log.info("saturation %s round %d: %.2f answers/s", key, r + 1, done / makespan)
        out["concurrency"], out["pages"] = concurrency, n
        return out

    # -- shadow monitoring's cost: a at saturation, its shadow lane on and off -----------------
    def shadow(self, seconds: float, compare: list[Sample]) -> dict[str, Any]:
        """a (shadow lane at the default rate) against a0 (the same service with
        DOCEXIT_SHADOW_RATE=0), workers + 1 clients: their p95 at saturation from one run."""
        return self.paired(seconds, compare, ("a", "a0"), self.workers + 1)

    def batching(self, seconds: float, compare: list[Sample], batch: int) -> dict[str, Any]:
        """a0 (every page alone) against ab (the same service batching up to `batch` pages),
        with enough clients that a batch can fill: their throughput from one run."""
        return self.paired(seconds, compare, ("a0", "ab"), max(self.workers, batch) + 1)

    def paired(
        self, seconds: float, compare: list[Sample], keys: tuple[str, str], concurrency: int
    ) -> dict[str, Any]:
        """Closed loop, `concurrency` clients, over the same pages for both `keys`, in chunks
        alternating between them, so that both come from one run."""
        lat = [s.latency_s for s in compare if s.variant == "a" and s.ok] or [1.0]
        n = int(0.85 * seconds / (2 * float(np.mean(lat)) / max(1, self.workers)))
        n = max(4 * concurrency, min(n, 4 * len(self.pages)))
        sequence = [self.pages[i % len(self.pages)] for i in range(n)]
        chunk = math.ceil(n / 2)
        out: dict[str, Any] = {k: {"samples": [], "chunks": []} for k in keys}
        for r in range(2):
            part = sequence[r * chunk : (r + 1) * chunk]
            for key in rotate(keys, r):
                samples, makespan = closed_loop(
                    self.variants[key], part, concurrency, self.client_ocr
                )
                out[key]["samples"] += samples
                out[key]["chunks"].append(
                    {"seconds": makespan, "answered": sum(1 for s in samples if s.ok)}
                )
        out["concurrency"], out["pages"] = concurrency, n
        return out

    # -- budget sweep on a ----------------------------------------------------------------------
    def floor(self, pages: int = 8) -> dict[str, Any]:
        """Requests with a 1 ms budget: the cascade answers at its first exit, so their p95 is
        the least any budget can be held to; the smallest useful budget is that with headroom
        for one more cheap stage and its jitter, rounded up to 10 ms."""
        a = self.variants["a"]
        with client() as http:
            extra = {"latency_budget_ms": str(PROBE_BUDGET_MS)}
            t0 = time.monotonic()
            probe = [send(http, a, p, t0, self.client_ocr, extra) for p in self.pages[:pages]]
        p95 = pct([1000 * s.latency_s for s in probe if s.ok], 95)
        room = max((HEADROOM[0] - 1) * p95, 1000 * HEADROOM[1])
        smallest = int(math.ceil((p95 + room) / 10.0) * 10) if p95 == p95 else 100
        return {"samples": probe, "p95_ms": p95, "smallest_useful_ms": smallest}

    def sweep(self, deadline: float, smallest: int, top: float, points: int) -> list[Sample]:
        budgets = budget_grid(smallest, top, points)
        log.info("budget sweep over %s ms", budgets)
        samples: list[Sample] = []
        a, t0, i = self.variants["a"], time.monotonic(), 0
        with client() as http, self._bar(len(self.pages), "budget sweep") as bar:
            while i < self.min_pages or time.monotonic() < deadline:
                page = self.pages[i % len(self.pages)]
                for b in rotate(budgets, i):
                    extra = {"latency_budget_ms": str(b)}
                    samples.append(send(http, a, page, t0, self.client_ocr, extra))
                i += 1
                bar.update()
        return samples

    # -- the card's policies, live ------------------------------------------------------------
    def policies(self, deadline: float, points: dict[str, dict[str, Any]]) -> list[Sample]:
        """Each chosen operating point's policy sent with every request (no budget)."""
        a, t0, i = self.variants["a"], time.monotonic(), 0
        variants = [
            Variant(key, a.title, a.url, {"policy": json.dumps(p["policy"])})
            for key, p in points.items()
        ]
        samples: list[Sample] = []
        with client() as http, self._bar(len(self.pages), "policies") as bar:
            while variants and (i < self.min_pages or time.monotonic() < deadline):
                page = self.pages[i % len(self.pages)]
                for v in rotate(variants, i):
                    samples.append(send(http, v, page, t0, self.client_ocr))
                i += 1
                bar.update()
        return samples

    # -- overload: open loop at multiples of a's saturation throughput -----------------------
    def overload(
        self,
        seconds: float,
        saturation: float,
        factors: Sequence[float],
        min_window_s: float,
        label: str = "",
    ) -> list[Any]:
        # Half sending, half draining; at least min_window_s of sending, for a queue to build
        # and the service to settle on how deep it can still afford to answer.
        window = max(min_window_s, 0.5 * seconds / max(1, len(factors)))
        out: list[Any] = []
        if not (math.isfinite(saturation) and saturation > 0):
            self.notes.append("overload: skipped, a's saturation throughput was not measured")
            return out
        for f in factors:
            rate = f * saturation
            samples = open_loop(self.variants["a"], self.pages, rate, window, self.client_ocr)
            out.append(
                {"factor": f, "rate": rate, "window_s": window, "samples": samples, "label": label}
            )
            log.info("overload %.0fx%s (%.2f/s): %d requests", f, label, rate, len(samples))
            time.sleep(1.0)  # the queue is empty again (every request was waited for)
        return out


def budget_grid(smallest: int, top: float, points: int) -> list[int]:
    """`points` budgets from the smallest useful one to full-depth time, evenly in log scale,
    rounded to 10 ms."""
    top = max(float(top), 2.0 * smallest) if top == top else 4.0 * smallest
    grid = np.geomspace(smallest, top, max(2, points))
    return sorted({smallest, *(int(round(g / 10.0) * 10) for g in grid[1:])})


def policy_key(policy: dict[str, Any]) -> str:
    """A short name: the family and its knob (per-exit thresholds: how many exits may fire)."""
    knob = {k: v for k, v in policy.items() if k not in ("name", "taus")}
    if "taus" in policy:
        knob["exits"] = sum(1 for t in policy["taus"].values() if t <= 1.0)
    return str(policy["name"]) + "(" + ", ".join(f"{k}={v}" for k, v in knob.items()) + ")"


def pick_policies(served: dict[str, Any], per_family: int) -> dict[str, dict[str, Any]]:
    """Up to `per_family` operating points of each policy family on the card the service serves
    (its /v1/model answer), spread from its cheapest to its dearest (modelled end-to-end time),
    by name; duplicates dropped."""
    families: dict[str, list[dict[str, Any]]] = {}
    for p in served.get("operating_points", []):
        if p["policy"]["name"] != "full_depth":
            families.setdefault(p["policy"]["name"], []).append(p)
    chosen: dict[str, dict[str, Any]] = {}
    for points in families.values():
        points.sort(key=lambda p: float(p.get("end_to_end_s", 0.0)))
        seen: set[tuple[float, float]] = set()
        idx = np.linspace(0, len(points) - 1, min(per_family, len(points))).round().astype(int)
        for i in sorted(set(idx.tolist())):
            p = points[i]
            sig = (round(float(p.get("accuracy", 0)), 4), round(float(p.get("end_to_end_s", 0)), 4))
            if sig in seen:
                continue
            seen.add(sig)
            key = policy_key(p["policy"])
            while key in chosen:
                key += "'"
            chosen[key] = p
    return chosen
