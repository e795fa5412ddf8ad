"""Certified thresholds: exact binomial p-values and fixed-sequence testing."""

from __future__ import annotations

import math
import random

import pytest

from models.certify import binomial_p_value, certify, disagreements
from models.policies import GlobalThreshold
from tests.models.test_operating_points import _traces


def test_the_binomial_p_value_is_the_exact_lower_tail() -> None:
    # P(Bin(10, 0.1) <= 0) = 0.9^10; <= 1 adds 10 * 0.1 * 0.9^9
    assert binomial_p_value(0, 10, 0.1) == pytest.approx(0.9**10)
    assert binomial_p_value(1, 10, 0.1) == pytest.approx(0.9**10 + 0.9**9)
    assert binomial_p_value(10, 10, 0.1) == pytest.approx(1.0)
    assert binomial_p_value(0, 0, 0.1) == 1.0 and binomial_p_value(0, 5, 0.0) == 0.0
    # Large n stays finite and small: 0 disagreements in 2000 pages at ε = 1%
    assert binomial_p_value(0, 2000, 0.01) == pytest.approx(math.exp(2000 * math.log(0.99)))


def test_a_p_value_is_valid_under_the_null() -> None:
    """Pages whose risk is exactly ε: p <= δ at most about a δ share of the time."""
    rng, n, eps, delta = random.Random(0), 300, 0.05, 0.1
    draws = [sum(rng.random() < eps for _ in range(n)) for _ in range(2000)]
    rejected = sum(binomial_p_value(k, n, eps) <= delta for k in draws) / len(draws)
    assert rejected <= delta + 0.02


def test_fixed_sequence_stops_at_the_first_candidate_not_rejected() -> None:
    traces, _ = _traces(n=400, bands=False)  # never exiting early then reads what full depth reads
    candidates = [GlobalThreshold(t) for t in (1.1, 0.999, 0.9, 0.5, 0.0)]
    cert = certify(candidates, traces, epsilon=0.05, delta=0.1)
    assert cert.p_values[0] == binomial_p_value(0, 400, 0.05)  # never exits: no disagreement
    assert cert.certified >= 1 and len(cert.p_values) == min(len(candidates), cert.certified + 1)
    assert all(p <= 0.1 for p in cert.p_values[: cert.certified])
    if cert.certified < len(candidates):
        assert cert.p_values[cert.certified] > 0.1
    assert disagreements(GlobalThreshold(0.0), traces) > 0.05 * 400  # the cheapest is not safe
    assert cert.certified < len(candidates)
