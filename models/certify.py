"""Certified operating points: early exits that lose at most ε against a reference, with
probability at least 1 - δ over the draw of the calibration pages (Learn then Test: Angelopoulos,
Bates, Candès, Jordan, Lei 2021; the arithmetic is models.ltt).

    python -m models.certify --checkpoint models/checkpoints/default \
        --order-data data/corpus2/val data/realcal --data data/certify/train data/certify/val \
        data/certify/test [--epsilon 0.01] [--delta 0.1]

The reference is full depth: every layer run on the whole page's words. It is also what the
cascade answers when it never exits early (an undecided page is read whole, models.runtime), so
the loss the guarantee bounds is all that exiting early costs, measured without labels on live
traffic too (service.shadow).

The risk of a point is the share of pages counted against it: with labels, the pages it gets
wrong where the reference is right ("harm", which bounds the accuracy it loses: a page can only
lose accuracy there); without labels (shadow pairs from live traffic), every page where the two
answers differ ("disagreement", a looser bound). The candidates are the card's operating points,
tested from the safest to the cheapest in an order taken from other pages (the ones the points were
searched on), so the order cannot depend on the calibration pages; the cheapest certified point is
the one the service uses."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from models.card import Candidate, Certification, OperatingPoint, Risk
from models.checkpoint import load_checkpoint
from models.policies import Policy, first_exit
from models.traces import Trace

log = logging.getLogger("docexit.certify")


def risky_pages(
    policy: Policy,
    traces: Sequence[Trace],
    labels: Sequence[int] | None = None,
) -> int:
    """Pages counted against `policy`: with labels, those it gets wrong where full depth is
    right; without, those where its answer differs from full depth's."""
    count = 0
    for i, t in enumerate(traces):
        answer = t.views[first_exit(policy, t.views)].prediction
        ref = t.full.prediction
        if labels is None:
            count += answer != ref
        else:
            count += answer != labels[i] and ref == labels[i]
    return count


def safest_first(
    points: Sequence[OperatingPoint],
    traces: Sequence[Trace],
    labels: Sequence[int] | None = None,
) -> list[OperatingPoint]:
    """Safest first, judged on pages other than the calibration pages: fewest risky pages,
    then the deeper point."""
    policies = [p.policy.build() for p in points]
    risk = [risky_pages(q, traces, labels) if q else 0 for q in policies]
    ranked = sorted(range(len(points)), key=lambda i: (risk[i], -points[i].depth))
    return [points[i] for i in ranked]


def certify(
    ordered: Sequence[OperatingPoint],
    traces: Sequence[Trace],
    labels: Sequence[int] | None,
    epsilon: float,
    delta: float,
    data: Sequence[str] = (),
) -> Certification:
    """Every point's risky pages on the calibration traces, in the given order; the card's
    Certification then says which are certified at ε (fixed-sequence testing)."""
    tested = []
    for point in ordered:
        policy = point.policy.build()
        if policy is None:  # full depth is not an early-exit point
            continue
        tested.append(Candidate(policy=point.policy, risky=risky_pages(policy, traces, labels)))
    risk: Risk = "disagreement" if labels is None else "harm"
    return Certification(
        epsilon=epsilon,
        delta=delta,
        risk=risk,
        reference="full_depth",
        pages=len(traces),
        data=list(data),
        tested=tested,
    )


def cheapest(points: Sequence[OperatingPoint]) -> OperatingPoint | None:
    """The cheapest end to end on the card's measured latencies (Card.default_policy's rule)."""
    return min(points, key=lambda p: p.end_to_end_s, default=None)


def main(argv: list[str] | None = None) -> None:
    from models.operating_points import validation  # the traces of a data folder

    parser = argparse.ArgumentParser(prog="python -m models.certify", description=__doc__)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--order-data", type=Path, nargs="+", required=True)
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="calibration pages")
    parser.add_argument("--epsilon", type=float, default=0.01)
    parser.add_argument("--delta", type=float, default=0.1)
    parser.add_argument(
        "--risk",
        choices=["disagreement", "harm"],
        default="disagreement",
        help="disagreement (default): what the shadow lane measures live, so its alert and "
        "re-certification speak of the same risk; harm: needs labels, certifies more",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if set(args.order_data) & set(args.data):
        parser.error("the calibration pages must not be the pages that fix the testing order")
    model, card = load_checkpoint(args.checkpoint)
    order_val = validation(model, card, args.order_data, None)
    ordered = safest_first(
        card.policy_points(),
        order_val.traces,
        order_val.labels if args.risk == "harm" else None,
    )
    cal = validation(model, card, args.data, None)
    cert = certify(
        ordered,
        cal.traces,
        cal.labels if args.risk == "harm" else None,
        args.epsilon,
        args.delta,
        [str(d) for d in args.data],
    )
    card = card.updated(certification=cert)
    card.write(args.checkpoint)
    chosen = cheapest(card.certified_points())
    log.info(
        "%d of %d points certified at ε=%g, δ=%g on %d pages; cheapest: %s",
        cert.certified_count(),
        len(cert.tested),
        args.epsilon,
        args.delta,
        cert.pages,
        json.dumps(chosen.policy.spec()) if chosen else "none (full depth)",
    )


if __name__ == "__main__":
    main()
