"""Certified operating points: exact binomial p-values, fixed-sequence testing, risky pages
counted on traces, and the card saying what is certified at any ε."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from models.card import Card, OperatingPoint, PolicyCard
from models.certify import certify, cheapest, risky_pages, safest_first
from models.ltt import binomial_p_value, fixed_sequence
from models.policies import GlobalThreshold, first_exit
from tests.models.test_operating_points import _traces


def test_the_binomial_p_value_is_the_exact_lower_tail() -> None:
    # P(Bin(10, 0.1) <= 0) = 0.9^10; <= 1 adds 10 * 0.1 * 0.9^9
    assert binomial_p_value(0, 10, 0.1) == pytest.approx(0.9**10)
    assert binomial_p_value(1, 10, 0.1) == pytest.approx(0.9**10 + 0.9**9)
    assert binomial_p_value(10, 10, 0.1) == pytest.approx(1.0)
    assert binomial_p_value(0, 0, 0.1) == 1.0 and binomial_p_value(0, 5, 0.0) == 0.0
    # Large n stays finite and small: 0 risky pages in 2000 at ε = 1%
    assert binomial_p_value(0, 2000, 0.01) == pytest.approx(math.exp(2000 * math.log(0.99)))


def test_a_p_value_is_valid_under_the_null() -> None:
    """Pages whose risk is exactly ε: p <= δ at most about a δ share of the time."""
    rng, n, eps, delta = random.Random(0), 300, 0.05, 0.1
    draws = [sum(rng.random() < eps for _ in range(n)) for _ in range(2000)]
    rejected = sum(binomial_p_value(k, n, eps) <= delta for k in draws) / len(draws)
    assert rejected <= delta + 0.02


def test_fixed_sequence_stops_at_the_first_candidate_not_rejected() -> None:
    # 0 and 1 risky pages of 400 pass at ε = 5%; 30 does not, and 0 after it is never reached
    assert fixed_sequence([0, 1, 30, 0], 400, 0.05, 0.1) == 2
    assert fixed_sequence([0, 1], 400, 0.05, 0.1) == 2
    assert fixed_sequence([30, 0], 400, 0.05, 0.1) == 0
    assert fixed_sequence([5], 400, 0.001, 0.1) == 0  # a stricter ε certifies less


def _points(taus: tuple[float, ...]) -> list[OperatingPoint]:
    return [
        OperatingPoint(
            policy=PolicyCard.model_validate({"name": "global", "tau": t}),
            end_to_end_s=t,  # the safer, the dearer
            mean_exit_index=10 * t,
        )
        for t in taus
    ]


def test_risky_pages_count_harm_with_labels_and_any_difference_without() -> None:
    traces, labels = _traces(n=300)
    policy = GlobalThreshold(0.3)
    answers = [t.views[first_exit(policy, t.views)].prediction for t in traces]
    refs = [t.views[-1].prediction for t in traces]
    harm = sum(a != y and r == y for a, r, y in zip(answers, refs, labels, strict=True))
    assert risky_pages(policy, traces, labels) == harm
    assert risky_pages(policy, traces) == sum(a != r for a, r in zip(answers, refs, strict=True))
    assert 0 < harm < risky_pages(policy, traces)  # harm is the tighter count
    assert risky_pages(GlobalThreshold(1.1), traces) == 0  # never exiting is the reference


def test_the_safest_first_puts_safe_points_first_and_the_card_certifies_a_prefix() -> None:
    traces, labels = _traces(n=400, seed=1)
    points = _points((0.0, 0.5, 1.1, 0.9))
    ordered = safest_first(points, traces, labels)
    assert ordered[0].policy.knob == {"tau": 1.1}  # never exits: no risky page
    cal, cal_labels = _traces(n=400, seed=2)
    cert = certify(ordered, cal, cal_labels, epsilon=0.05, delta=0.1)
    assert [t.policy for t in cert.tested] == [p.policy for p in ordered]
    k = cert.certified_count()
    assert 1 <= k < len(ordered)  # tau 0 exits at once and is wrong far too often
    assert all(p <= 0.1 for p in cert.p_values()[:k]) and cert.p_values()[k] > 0.1
    assert cert.certified_count(0.5) >= k  # a looser ε never certifies less
    card = Card.read(Path("models/checkpoints/default"))
    card = card.updated(operating_points=points, certification=cert)
    assert [p.policy for p in card.certified_points()] == [p.policy for p in ordered[:k]]
    chosen = cheapest(card.certified_points())
    assert chosen is not None and chosen.end_to_end_s == min(p.end_to_end_s for p in ordered[:k])
    assert card.default_policy() == chosen.policy  # what a request naming nothing gets
    strict = card.updated(certification=cert.model_copy(update={"epsilon": 1e-6}))
    assert strict.certified_points() == [] and strict.default_policy() is None  # full depth
    uncertified = card.updated(certification=None)
    assert uncertified.default_policy() == uncertified.policy


def test_a_card_refuses_a_certificate_for_points_it_does_not_have() -> None:
    traces, labels = _traces(n=50)
    cert = certify(_points((0.123,)), traces, labels, epsilon=0.05, delta=0.1)
    card = Card.read(Path("models/checkpoints/default"))
    with pytest.raises(ValueError, match="not one of the card's operating points"):
        card.updated(certification=cert)
