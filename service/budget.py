"""The per-request SLA knob: a policy spec and a latency budget become the exit policy in force.

The checkpoint's operating points (each policy over a sweep of its knob, with the accuracy, depth
and per-page costs it gave on validation pages) are re-priced with the latencies this process
measures live (service.latency_model), and the most accurate point whose pages (nine in ten)
answer within the budget is used, along a ladder on which a larger budget never buys a less
accurate or shallower point (service.ladder). With a certificate on the card (service.guarantee),
"auto" picks among the points certified at the ε in force instead: the cheapest without a budget,
the ladder's within one, and, when no certified point fits the budget, the uncertified point the
ladder picks from all of them, saying so. The deadline itself is service.deadline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.card import Card, OperatingPoint, PolicyCard
from models.policies import Policy
from service.errors import invalid
from service.guarantee import Guarantee, certified_points, guarantee_of
from service.ladder import cheapest_point, choose_point, fitting_point
from service.latency_model import LatencyModel
from service.policy_spec import build_policy

Spec = str | dict[str, Any] | None  # "auto", "card", a family name, or {"name": ..., knob}


@dataclass
class Choice:
    """The policy in force for one request; policy None means full depth."""

    policy: Policy | None
    name: str
    knob: dict[str, Any]
    source: str  # request | admin | settings | card | budget
    point: OperatingPoint | None = None  # the operating point a budget or family chose
    guarantee: Guarantee | None = None  # set by resolve

    @property
    def expected_accuracy(self) -> float | None:
        """The chosen point's accuracy on validation pages."""
        return None if self.point is None else self.point.accuracy


def _choice(policy: PolicyCard, source: str, point: OperatingPoint | None = None) -> Choice:
    return Choice(policy.build(), policy.name, policy.knob, source, point)


def card_policy(card: Card) -> Choice:
    """The card's default: its policy, else its per-exit thresholds, else (an uncalibrated card)
    full depth."""
    if card.policy is not None:
        return _choice(card.policy, "card")
    if card.thresholds:
        thresholds = {"name": "per_exit", "taus": dict(card.thresholds)}
        return _choice(PolicyCard.model_validate(thresholds), "card")
    return Choice(None, "full_depth", {}, "card")


def _unknown_family(spec: str, card: Card) -> Exception:
    known = sorted({p.policy.name for p in card.policy_points()} | {"auto", "card"})
    return invalid(f"the checkpoint has no operating point for policy {spec!r}; try {known}")


def resolve(
    spec: Spec,
    source: str,
    budget_ms: int | None,
    card: Card,
    latency: LatencyModel,
    epsilon: float | None = None,
) -> Choice:
    """A policy spec to the policy in force, priced against the budget where there is one, with
    the guarantee it carries at `epsilon` (the ε in force: service.guarantee.epsilon_in_force)."""
    choice = _resolve(spec, source, budget_ms, card, latency, epsilon)
    if choice.guarantee is None:
        spec_of = None if choice.policy is None else {"name": choice.name, **choice.knob}
        choice.guarantee = guarantee_of(spec_of, card, epsilon)
    return choice


def _certified(
    source: str, budget_ms: int | None, card: Card, latency: LatencyModel, epsilon: float | None
) -> Choice:
    """ "auto" on a certified card: the cheapest certified point, or the ladder's within a budget;
    full depth when nothing is certified at ε."""
    points = certified_points(card, epsilon)
    if not points:
        choice = Choice(None, "full_depth", {}, source)
        choice.guarantee = guarantee = guarantee_of(None, card, epsilon)
        guarantee.detail = f"no early-exit point is certified at ε = {epsilon:g}: full depth"
        return choice
    if budget_ms is None:
        point = cheapest_point(points, latency)
        assert point is not None  # points is not empty
        return _choice(point.policy, source, point)
    if (point := fitting_point(points, budget_ms / 1000.0, latency)) is not None:
        return _choice(point.policy, source, point)
    fallback = choose_point(card.policy_points(), budget_ms / 1000.0, latency) or points[0]
    choice = _choice(fallback.policy, source, fallback)
    choice.guarantee = guarantee = guarantee_of(fallback.policy.spec(), card, epsilon)
    if not guarantee.certified:
        guarantee.detail = (
            f"no point certified at ε = {epsilon:g} fits the {budget_ms} ms budget; answered "
            "with the most accurate point that does, uncertified"
        )
    return choice


def _resolve(
    spec: Spec,
    source: str,
    budget_ms: int | None,
    card: Card,
    latency: LatencyModel,
    epsilon: float | None,
) -> Choice:
    if isinstance(spec, dict):
        policy = build_policy(spec, card.exits, ("policy",))
        knob = {k: v for k, v in spec.items() if k != "name"}  # as the client spelled it
        return Choice(policy, str(spec.get("name", "")), knob, source)
    if spec in (None, "auto") and card.certification is not None:
        return _certified(source, budget_ms, card, latency, epsilon)
    if spec == "card" or (spec in (None, "auto") and budget_ms is None):
        return card_policy(card)
    family = None if spec in (None, "auto") else spec
    points = card.policy_points(family)
    if not points:
        if family is None:
            return card_policy(card)
        raise _unknown_family(str(spec), card)
    if budget_ms is None:  # a family without a budget: its most accurate point
        priced = zip(latency.bounds(points), points, strict=True)
        point = max(priced, key=lambda sp: (sp[1].accuracy, -sp[0]))[1]
    else:
        point = choose_point(points, budget_ms / 1000.0, latency) or points[0]
    return _choice(point.policy, source, point)


def thresholds_of(choice: Choice, exits: list[str]) -> dict[str, float]:
    """The confidence threshold each exit applies under a policy (for the gauge); exits a
    policy never stops at get +inf, other kinds of policy (patience, similarity) none."""
    if choice.policy is None:
        return {}
    taus = {n: choice.policy.threshold(n) for n in exits}
    return {n: float(t) for n, t in taus.items() if t is not None}


def check_spec(spec: Spec, card: Card, where: tuple[str, ...] = ("policy",)) -> None:
    """Refuse (422) a policy spec that could never be resolved against this checkpoint."""
    if spec is None or spec in ("auto", "card"):
        return
    if isinstance(spec, dict):
        build_policy(spec, card.exits, where)
        return
    if not card.policy_points(spec):
        raise _unknown_family(spec, card)
