"""Which guarantee an answer's policy carries: the checkpoint's certificate (models.certify) says
which operating points lose at most ε of accuracy against full depth (what the cascade answers
never exiting early),
with probability at least 1 - δ over its calibration pages. The ε in force is the operator's
(admin API, settings) or the card's; the points certified at it follow from the counts the card
stores, so changing ε needs no new calibration."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from models.card import Card, Certification, OperatingPoint


class Guarantee(BaseModel):
    certified: bool = Field(
        description="true: this policy is one of the operating points certified at `epsilon`"
    )
    epsilon: float | None = Field(
        default=None, description="tolerated accuracy loss (a share) against the reference"
    )
    delta: float | None = Field(
        default=None, description="probability that the calibration pages were unlucky"
    )
    reference: str | None = Field(
        default=None,
        description="full_depth: every layer on the whole page's words; cascade (older cards): "
        "the cascade never exiting early, on the rest of the page read apart",
    )
    calibration_pages: int | None = None
    detail: str


def _key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True)


def epsilon_in_force(card: Card, *chosen: float | None) -> float | None:
    """The first ε set (admin, then settings), else the card's; None without a certificate."""
    if card.certification is None:
        return None
    return next((e for e in chosen if e is not None), card.certification.epsilon)


def _carried(cert: Certification, epsilon: float, certified: bool, detail: str) -> Guarantee:
    return Guarantee(
        certified=certified,
        epsilon=epsilon,
        delta=cert.delta,
        reference=cert.reference,
        calibration_pages=cert.pages,
        detail=detail,
    )


def guarantee_of(spec: dict[str, Any] | None, card: Card, epsilon: float | None) -> Guarantee:
    """The guarantee of a policy (its spec; None: full depth) at ε."""
    cert = card.certification
    if cert is None or epsilon is None:
        return Guarantee(certified=False, detail="the checkpoint carries no certificate")
    if spec is None:
        return _carried(cert, epsilon, False, "full depth: no early exit, nothing to certify")
    certified = {_key(p.policy.spec()) for p in card.certified_points(epsilon)}
    if _key(spec) in certified:
        return _carried(
            cert,
            epsilon,
            True,
            f"loses at most {epsilon:.1%} accuracy against the {cert.reference} reference, "
            f"with probability at least {1 - cert.delta:.0%}",
        )
    return _carried(cert, epsilon, False, f"not among the points certified at ε = {epsilon:g}")


def certified_points(card: Card, epsilon: float | None) -> list[OperatingPoint]:
    return [] if epsilon is None else card.certified_points(epsilon)
