"""Learn then Test (Angelopoulos, Bates, Candès, Jordan, Lei 2021), the arithmetic only: an exact
binomial p-value for "this candidate's risk exceeds ε", and fixed-sequence testing over candidates
in an order fixed before the calibration pages are seen. Kept apart from models.certify (which
counts risky pages on traces) so that the card can say what is certified at any ε from the counts
it stores."""

from __future__ import annotations

import math
from collections.abc import Sequence


def binomial_p_value(risky: int, n: int, epsilon: float) -> float:
    """P(Binomial(n, ε) ≤ risky): a valid p-value for "the risk exceeds ε" (under that
    hypothesis this few risky pages are at most this likely)."""
    if n == 0:
        return 1.0
    if epsilon <= 0.0:
        return 1.0 if risky > 0 else 0.0
    if epsilon >= 1.0:
        return 1.0 if risky >= n else 0.0
    log_e, log_not = math.log(epsilon), math.log1p(-epsilon)

    def term(k: int) -> float:
        log_comb = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        return math.exp(log_comb + k * log_e + (n - k) * log_not)

    return min(1.0, sum(term(k) for k in range(risky + 1)))


def fixed_sequence(risky: Sequence[int], n: int, epsilon: float, delta: float) -> int:
    """How many candidates, from the first, are certified: testing stops at the first whose
    p-value exceeds δ, so no correction for multiplicity is needed (the family-wise error stays
    at most δ)."""
    for i, k in enumerate(risky):
        if binomial_p_value(k, n, epsilon) > delta:
            return i
    return len(risky)
