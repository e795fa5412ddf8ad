"""The per-request SLA knob: a latency budget becomes an exit policy, and a deadline.

Policy: the checkpoint's operating points (each policy over a sweep of its knob, with the
accuracy, depth and per-page costs it gave on validation pages) are re-priced with the latencies
this process measures live, and the most accurate point whose pages (nine in ten) answer within
the budget is used, along a ladder on which a larger budget never buys a less accurate or
shallower point.

Deadline: before each stage (a layer, OCR) the cascade asks whether the remaining budget can pay
for it at its moving-average cost; if not, it answers with the best exit so far."""

from __future__ import annotations

import math
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from models.policies import Policy, make_policy
from service.errors import invalid
from service.policy_spec import build_policy

EMA_ALPHA = 0.2  # weight of the newest sample: about the last 10 requests dominate
FIT = 0.9  # a point must fit in 90% of the budget: queueing and encoding jitter need room


class LatencyModel:
    """Moving averages of OCR, decode and every exit's stage time (seconds), seeded from the
    checkpoint card's measurements and updated by every request; thread-safe."""

    def __init__(self, card_latency: dict[str, Any], exits: list[str]) -> None:
        stages = dict(card_latency.get("stages", {}))
        vision = [v for k, v in stages.items() if k.startswith("vision.")]
        floor = statistics.fmean(vision) if vision else 0.0
        for name in exits:
            if name.startswith("mm."):
                # A multimodal layer attends over text + image tokens, so it costs at least what
                # an image-only layer does; this guards against a card that under-measured it.
                stages[name] = max(stages.get(name, 0.0), floor)
            stages.setdefault(name, floor)
        stages.setdefault("embed", 0.0)
        self.card_stages = dict(stages)
        self.card_ocr = float(card_latency.get("ocr", 1.0))
        # OCR stages as the cascade names them: the whole page, or its top band and the rest.
        self.card_ocr_stages = {"ocr": self.card_ocr}
        for key, stage in (("ocr_band", "ocr.band"), ("ocr_rest", "ocr.rest")):
            if key in card_latency:
                self.card_ocr_stages[stage] = float(card_latency[key])
        self._ema: dict[str, float] = {**stages, **self.card_ocr_stages, "decode": 0.0}
        self._lock = threading.Lock()

    def observe(self, name: str, seconds: float) -> None:
        with self._lock:
            old = self._ema.get(name)
            self._ema[name] = seconds if old is None else old + EMA_ALPHA * (seconds - old)

    def get(self, name: str) -> float:
        with self._lock:
            if name in ("ocr.band", "ocr.rest") and name not in self._ema:
                # Not measured yet (nor on the card): price a band like a whole page, which
                # overestimates it, so a deadline is never planned on optimism.
                return self._ema["ocr"]
            return self._ema.get(name, 0.0)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._ema)

    def encoder_scale(self) -> float:
        """Live encoder speed relative to the card's (2.0: this machine is half as fast)."""
        names = [n for n in self.card_stages if n != "embed"]
        card = sum(self.card_stages[n] for n in names)
        live = sum(self.get(n) for n in names)
        return live / card if card > 0 else 1.0

    def ocr_scale(self) -> float:
        """Live OCR speed relative to the card's, over the OCR stages seen so far."""
        card = sum(self.card_ocr_stages.values())
        live = sum(self.get(n) for n in self.card_ocr_stages)
        return live / card if card > 0 else 1.0

    def price(self, point: dict[str, Any]) -> float:
        """Predicted end-to-end seconds of an operating point at today's latencies."""
        encoder = float(point.get("encoder_s", 0.0)) * self.encoder_scale()
        if "ocr_s" in point:  # the point's own OCR mix (skips, top band only, whole page)
            ocr = float(point["ocr_s"]) * self.ocr_scale()
        else:
            ocr = (1.0 - float(point.get("ocr_skip_rate", 0.0))) * self.get("ocr")
        return self.get("decode") + encoder + ocr

    def bound(self, point: dict[str, Any]) -> float:
        """Predicted seconds within which nine pages in ten answer under an operating point, at
        today's latencies: what a per-request budget must cover. A point's mean mixes fast vision
        answers with OCR ones, and a budget that only covers the mean cuts every OCR page short
        of the accuracy the point promises. Cards without the quantile: the mean."""
        return self.bounds([point])[0]

    def bounds(self, points: list[dict[str, Any]]) -> list[float]:
        """bound() of each point, with today's scales read once for all of them."""
        encoder, ocr, decode = self.encoder_scale(), self.ocr_scale(), self.get("decode")
        return [
            decode + float(p["encoder_p90_s"]) * encoder + float(p["ocr_p90_s"]) * ocr
            if "ocr_p90_s" in p
            else self.price(p)
            for p in points
        ]


@dataclass
class Choice:
    """The policy in force for one request; policy None means full depth."""

    policy: Policy | None
    name: str
    knob: dict[str, Any]
    source: str  # request | admin | settings | card | budget
    predicted_s: float | None = None  # LatencyModel.bound of the chosen point
    expected_accuracy: float | None = None


def _knob(description: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in description.items() if k != "name"}


def policy_points(card: dict[str, Any], family: str | None = None) -> list[dict[str, Any]]:
    """Operating points with a real policy (not full depth), optionally of one family."""
    points = [p for p in card.get("operating_points", []) if p["policy"]["name"] != "full_depth"]
    return [p for p in points if family is None or p["policy"]["name"] == family]


Rung = tuple[float, dict[str, Any]]  # (live bound in seconds, operating point)


def depth(point: dict[str, Any]) -> float:
    """How far into the cascade a point's pages get on average: its mean exit index (position in
    the checkpoint's exit list, which orders every vision exit before OCR and the text exits).
    Its mean exit layer would rank emb.text_avg (layer 0, after OCR) under vision.1; cards made
    before the index was recorded only have that."""
    return float(point.get("mean_exit_index", point.get("mean_exit_layer", 0.0)))


def ladder(points: list[dict[str, Any]], latency: LatencyModel) -> list[Rung]:
    """(price, point) rungs, cheapest first, along which price, accuracy and mean exit depth all
    rise: from the most accurate point (the cheaper among ties) down to cheaper, less accurate,
    shallower ones. Choosing on it makes a larger budget never buy a less accurate or shallower
    answer, which picking from the whole table does not promise (a cheap point may exit deep).
    Dominated points (another is no dearer, no less accurate, no deeper) are dropped first, so
    that the walk down cannot step onto one and skip the point that dominates it."""
    scored = [
        (s, -p.get("accuracy", 0.0), depth(p), p)
        for s, p in zip(latency.bounds(points), points, strict=True)
    ]
    kept = [
        x
        for x in scored
        if not any(
            y[0] <= x[0] and y[1] <= x[1] and y[2] <= x[2] and y[:3] != x[:3] for y in scored
        )
    ]
    priced = sorted(
        ((x[0], x[3]) for x in kept), key=lambda sp: (-sp[1].get("accuracy", 0.0), sp[0])
    )
    top = priced[0]
    rungs = [top]
    for s, p in sorted(priced[1:], key=lambda sp: -sp[0]):  # dearest first, below the top
        last = rungs[-1][1]
        if (
            s < rungs[-1][0]
            and p.get("accuracy", 0.0) < last.get("accuracy", 0.0)
            and depth(p) <= depth(last)
        ):
            rungs.append((s, p))
    return rungs[::-1]


def choose_point(
    points: list[dict[str, Any]], budget_s: float, latency: LatencyModel
) -> dict[str, Any] | None:
    """The highest rung of the ladder whose live bound (nine pages in ten) fits the budget; when
    none fits, the lowest, as the deadline then cuts it short anyway."""
    if not points:
        return None
    rungs = ladder(points, latency)
    fits = [p for s, p in rungs if s <= FIT * budget_s]
    return fits[-1] if fits else rungs[0][1]


def card_policy(card: dict[str, Any]) -> Choice:
    desc = card.get("policy")
    if desc:
        return Choice(make_policy(desc["name"], _knob(desc)), desc["name"], _knob(desc), "card")
    thresholds = card.get("thresholds") or {}
    if thresholds:
        knob = {"taus": thresholds}
        return Choice(make_policy("per_exit", knob), "per_exit", knob, "card")
    return Choice(None, "full_depth", {}, "card")  # an uncalibrated card: no early exit


def resolve(
    spec: str | dict[str, Any] | None,
    source: str,
    budget_ms: int | None,
    card: dict[str, Any],
    latency: LatencyModel,
) -> Choice:
    """A policy spec ("auto", "card", a family name, or {"name": ..., knob}) to a policy."""
    if isinstance(spec, dict):
        name = str(spec.get("name", ""))
        policy = build_policy(spec, card.get("exits", []), ("policy",))
        return Choice(policy, name, _knob(spec), source)
    if spec in (None, "auto") and budget_ms is None:
        return card_policy(card)
    if spec == "card":
        return card_policy(card)
    family = None if spec in (None, "auto") else spec
    points = policy_points(card, family)
    if not points:
        if family is None:
            return card_policy(card)
        known = sorted({p["policy"]["name"] for p in policy_points(card)} | {"auto", "card"})
        raise invalid(f"the checkpoint has no operating point for policy {spec!r}; try {known}")
    if budget_ms is None:  # a family without a budget: its most accurate point
        priced = zip(latency.bounds(points), points, strict=True)
        point = max(priced, key=lambda sp: (sp[1].get("accuracy", 0.0), -sp[0]))[1]
    else:
        point = choose_point(points, budget_ms / 1000.0, latency) or points[0]
    desc = point["policy"]
    return Choice(
        make_policy(desc["name"], _knob(desc)),
        desc["name"],
        _knob(desc),
        source,
        latency.bound(point),
        point.get("accuracy"),
    )


def thresholds_of(choice: Choice, exits: list[str]) -> dict[str, float]:
    """The confidence threshold each exit applies under a policy (for the gauge); exits a
    policy never stops at get +inf, other kinds of policy (patience, similarity) none."""
    if choice.name == "global":
        return dict.fromkeys(exits, float(choice.knob["tau"]))
    if choice.name == "per_exit":
        taus = choice.knob.get("taus", {})
        return {n: float(taus.get(n, math.inf)) for n in exits}
    return {}


@dataclass
class Deadline:
    """When the request must be answered; budget None means no deadline."""

    budget_s: float | None
    start: float = field(default_factory=time.perf_counter)
    hit: bool = False

    def remaining(self) -> float:
        if self.budget_s is None:
            return math.inf
        return self.budget_s - (time.perf_counter() - self.start)

    def can_pay(self, seconds: float) -> bool:
        return seconds <= self.remaining()


def check_spec(
    spec: str | dict[str, Any] | None, card: dict[str, Any], where: tuple[str, ...] = ("policy",)
) -> None:
    """Refuse (422) a policy spec that could never be resolved against this checkpoint."""
    if spec is None or spec in ("auto", "card"):
        return
    if isinstance(spec, dict):
        build_policy(spec, card.get("exits", []), where)
        return
    if not policy_points(card, spec):
        known = sorted({p["policy"]["name"] for p in policy_points(card)} | {"auto", "card"})
        raise invalid(f"the checkpoint has no operating point for policy {spec!r}; try {known}")
