"""Certified operating points: early exits that lose at most ε, with probability at least 1 - δ
over the draw of the calibration pages (Learn then Test: Angelopoulos, Bates, Candès, Jordan,
Lei 2021).

The risk of a policy is the share of pages on which its answer differs from a reference: by
default the cascade that never exits early (what the thresholds decide), or full depth. It needs
no labels, so the same test can run on shadow pairs from live traffic, and it bounds the accuracy
lost against that reference: a page can lose accuracy only where the answers differ. Full depth
is the stricter reference but not a reachable one: the cascade reads a page as two OCR calls (a
top band, then the rest) and so answers differently from whole-page OCR on a few pages both ways
whatever its thresholds (models.threshold_search says the same of its harm bound).

For each candidate, from the safest to the cheapest in an order fixed before the calibration
pages are seen, the hypothesis "its risk exceeds ε" is tested with an exact binomial p-value.
Testing stops at the first candidate that is not rejected (fixed-sequence testing: no correction
for multiplicity is needed), and every candidate before it is certified; the cheapest certified
one is used."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from models.policies import Policy, first_exit
from models.traces import Trace


def binomial_p_value(disagreements: int, n: int, epsilon: float) -> float:
    """P(Binomial(n, ε) ≤ disagreements): a valid p-value for "the risk exceeds ε" (under that
    hypothesis this few disagreements are at most this likely)."""
    if n == 0:
        return 1.0
    if epsilon <= 0.0:
        return 1.0 if disagreements > 0 else 0.0
    log_e, log_not = math.log(epsilon), math.log1p(-epsilon)

    def term(k: int) -> float:
        log_comb = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        return math.exp(log_comb + k * log_e + (n - k) * log_not)

    return min(1.0, sum(term(k) for k in range(disagreements + 1)))


Reference = Literal["cascade", "full_depth"]


def disagreements(policy: Policy, traces: Sequence[Trace], reference: Reference = "cascade") -> int:
    """Pages whose answer under `policy` differs from the reference's: the cascade's when it
    never exits early (each trace's last view), or full depth's."""
    return sum(
        t.views[first_exit(policy, t.views)].prediction
        != (t.views[-1] if reference == "cascade" else t.full).prediction
        for t in traces
    )


@dataclass(frozen=True)
class Certificate:
    epsilon: float
    delta: float
    reference: Reference
    pages: int  # calibration pages the test ran on
    p_values: tuple[float, ...]  # per candidate tested, in order (testing stops at the first > δ)
    certified: int  # how many candidates, from the first, are certified (0: none)


def certify(
    candidates: Sequence[Policy],
    traces: Sequence[Trace],
    epsilon: float,
    delta: float,
    reference: Reference = "cascade",
) -> Certificate:
    """Fixed-sequence testing over `candidates`, ordered safest first (the order must not
    depend on `traces`). The last certified candidate is the cheapest the guarantee covers."""
    p_values: list[float] = []
    for policy in candidates:
        p = binomial_p_value(disagreements(policy, traces, reference), len(traces), epsilon)
        p_values.append(p)
        if p > delta:
            break
    certified = sum(1 for p in p_values if p <= delta)
    return Certificate(epsilon, delta, reference, len(traces), tuple(p_values), certified)
