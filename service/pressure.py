"""Degrade before shedding: under load a request's depth is cut before the service refuses it.

Every admitted request is priced (the mean seconds of the point or rung it runs, at today's
latencies) into a backlog, so a new request knows how long it will wait for a worker. Its
latency target is its budget, else DOCEXIT_DEGRADE_TARGET_MS, else HEADROOM times the live
bound (nine pages in ten) of the point it would run on an idle service. What the wait leaves of
the target is the pressure budget. When the chosen point no longer fits it, the request steps
down, in order: a shallower operating point along the ladder (service.ladder, through the same
budget resolution a client's budget goes through), then the top band's OCR only (no rest of the
page), then the vision stream only (a cap, service.deadline). While waiting, a request also
carries the target as its deadline, so a wait longer than predicted cuts its depth rather than
its peers'. When no rung fits, the cheapest runs under that deadline; only when even it would
answer past twice the target is the request refused (503 with Retry-After), and the work
queue's hard cap stays as the last line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from models.card import Card, OperatingPoint
from models.plan import EMBED, OCR_BAND, CascadePlan
from models.policies import Policy, vision_exits_to_run
from service.budget import Choice
from service.deadline import Cap
from service.errors import overloaded
from service.ladder import FIT
from service.latency_model import DECODE, LatencyModel

HEADROOM = 1.5  # under load an answer may take this multiple of its idle bound before degrading
SHED = 2.0  # past this multiple of its target even the cheapest answer is refused (503)
MIX_ALPHA = 0.1  # weight of the newest request in the backlog's price correction
MIX_RANGE = (0.25, 4.0)  # a correction past these says the prices are wrong, not the pages

Rung = Literal["shallower_point", "no_page_ocr", "vision_only"]
RUNGS: tuple[Rung, ...] = ("shallower_point", "no_page_ocr", "vision_only")
CAP_RUNGS: tuple[tuple[Cap, Rung], ...] = (("band", "no_page_ocr"), ("vision", "vision_only"))


@dataclass(frozen=True)
class Degradation:
    """Why a request was answered shallower than its policy asked."""

    rung: Rung
    expected_wait_s: float  # predicted wait for a worker when it arrived
    target_s: float  # the latency it had to keep within

    @property
    def pressure_budget_s(self) -> float:
        return max(0.0, self.target_s - self.expected_wait_s)


@dataclass(frozen=True)
class Admission:
    """How an accepted request runs."""

    choice: Choice  # the policy in force, possibly a shallower point than asked for
    deadline_s: float | None  # from its arrival; None: no deadline
    cap: Cap | None  # the last stage it may reach; None: any
    price_s: float  # predicted mean service seconds, as the backlog counts it
    pressure_budget_s: float  # what the wait left of its target
    degradation: Degradation | None = None


@dataclass
class _Work:
    price_s: float
    started: float | None = None


@dataclass
class Backlog:
    """The priced work admitted and not yet finished, shared by the request threads. `mix`
    corrects the prices with what requests really took (pages harder than the card's cost more
    than its points say)."""

    workers: int
    mix: float = 1.0
    _work: dict[int, _Work] = field(default_factory=dict)
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self) -> float:
        """Predicted seconds a request arriving now waits for a worker (0 with one free)."""
        now = time.perf_counter()
        with self._lock:
            if len(self._work) < self.workers:
                return 0.0
            left = sum(
                w.price_s if w.started is None else max(0.0, w.price_s - (now - w.started))
                for w in self._work.values()
            )
            return self.mix * left / self.workers

    def admit(self, price_s: float) -> int:
        with self._lock:
            self._next += 1
            self._work[self._next] = _Work(price_s)
            return self._next

    def start(self, ticket: int) -> None:
        """A worker took the request (called from its thread)."""
        with self._lock:
            if ticket in self._work:
                self._work[ticket].started = time.perf_counter()

    def finish(self, ticket: int) -> None:
        """The request left the service, answered or not."""
        now = time.perf_counter()
        with self._lock:
            work = self._work.pop(ticket, None)
            if work is None or work.started is None or work.price_s <= 0:
                return  # never ran: says nothing about prices
            ratio = min(max((now - work.started) / work.price_s, MIX_RANGE[0]), MIX_RANGE[1])
            self.mix += MIX_ALPHA * (ratio - self.mix)

    def __len__(self) -> int:
        with self._lock:
            return len(self._work)


@dataclass(frozen=True)
class Prices:
    """Today's price of a policy, a point or a capped rung, from the checkpoint's points and the
    live latency model."""

    card: Card
    latency: LatencyModel
    plan: CascadePlan
    band: bool  # the cascade reads a top band first (a cap at the band is possible)

    def point_of(self, choice: Choice) -> OperatingPoint | None:
        """The measured point a choice runs: its own, else the card's point with the same
        policy (the card's default policy, full depth)."""
        if choice.point is not None:
            return choice.point
        name = "full_depth" if choice.policy is None else choice.name
        knob = {} if choice.policy is None else choice.knob
        same = [p for p in self.card.operating_points if p.policy.spec() == {"name": name, **knob}]
        return same[0] if same else None

    def bound(self, choice: Choice) -> float:
        """Seconds within which nine pages in ten answer; a policy the card never measured is
        priced as the card's dearest point."""
        point = self.point_of(choice)
        if point is not None:
            return self.latency.bound(point)
        return max(self.latency.bounds(self.card.operating_points), default=0.0)

    def price(self, choice: Choice) -> float:
        point = self.point_of(choice)
        if point is not None:
            return self.latency.price(point)
        return max(map(self.latency.price, self.card.operating_points), default=0.0)

    def capped(self, policy: Policy | None, cap: Cap) -> float | None:
        """Seconds a capped rung costs at most; None when the cap cannot stop this policy (it
        runs no vision exit, or the cascade reads no top band)."""
        if policy is None:
            return None
        vision = vision_exits_to_run(policy, [e.name for e in self.plan.vision])
        if not vision and cap == "vision":
            return None
        seconds = self.latency.get(DECODE) + self.latency.get(EMBED)
        seconds += sum(self.latency.get(n) for n in vision)
        if cap == "vision":
            return seconds
        if not self.band:
            return None
        band = sum(self.latency.get(e.name) for e in self.plan.band)
        return seconds + self.latency.get(OCR_BAND) + band


def admit(
    prices: Prices,
    backlog: Backlog,
    choice: Choice,
    budget_s: float | None,
    shallower: Callable[[float], Choice],
    *,
    degrade: bool,
    target_s: float | None = None,
) -> Admission:
    """How a request runs given the work ahead of it. `shallower(seconds)` resolves the same
    policy spec for a tighter budget (service.budget.resolve); target_s: the operator's target
    for requests without a budget (None: HEADROOM times the choice's idle bound). Raises the
    503 problem when even the cheapest rung cannot answer within the target."""
    wait, bound = backlog.wait_s(), prices.bound(choice)
    target = target_of(bound, budget_s, target_s)
    room = max(0.0, target - wait)
    plain = Admission(choice, budget_s, None, prices.price(choice), room)
    if not degrade or choice.policy is None or wait <= 0.0:
        return plain  # full depth is asked for comparisons: never cut
    deadline = target  # waiting: a longer wait than predicted cuts depth, not the next request
    if bound <= FIT * room:
        return Admission(choice, deadline, None, plain.price_s, room)

    def degraded(to: Choice, rung: Rung, cap: Cap | None, price: float) -> Admission:
        return Admission(to, deadline, cap, price, room, Degradation(rung, wait, target))

    lower = shallower(room)  # the ladder's point for the room left (its lowest if none fits)
    if lower.point is not None and lower.point != prices.point_of(choice):
        if prices.bound(lower) <= FIT * room:
            return degraded(lower, "shallower_point", None, prices.price(lower))
    cheapest = degraded(lower, "shallower_point", None, prices.price(lower))
    for cap, rung in CAP_RUNGS:
        price = prices.capped(lower.policy, cap)
        if price is None:
            continue
        cheapest = degraded(lower, rung, cap, price)
        if price <= FIT * room:
            return cheapest
    # Nothing fits: the cheapest rung runs, and its deadline answers at whatever exit it reached
    # (a request with its own budget asked for exactly that). Only an answer that would come
    # past SHED times the target is refused: a retry after the backlog drains serves it better.
    if budget_s is None and wait + cheapest.price_s > SHED * target:
        raise overloaded(
            backlog_retry_s(wait),
            f"the work ahead (about {wait * 1000:.0f} ms) leaves no rung, down to the cheapest, "
            f"that answers within {SHED:g} times the {target * 1000:.0f} ms target; retry later",
        )
    return cheapest


def target_of(bound_s: float, budget_s: float | None, target_s: float | None) -> float:
    """The latency a request is kept within under load: its budget, else the operator's
    target, else HEADROOM times bound_s, the live bound of its point (Prices.bound)."""
    if budget_s is not None:
        return budget_s
    return target_s or HEADROOM * bound_s


def backlog_retry_s(wait_s: float) -> int:
    """Retry-After for a refusal: about when the backlog ahead will have drained."""
    return max(1, min(60, round(wait_s)))
