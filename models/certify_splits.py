"""Does the certificate hold? Split the calibration pages at random into calibration and test
halves many times; certify on each calibration half (models.certify, the card's operating points in
the testing order that other pages fix), then measure on its test half the accuracy that the
cheapest certified point really loses against full depth (what the cascade answers when it
never exits early). The guarantee says the loss exceeds ε in at most a δ share of splits.

    python -m models.certify_splits --checkpoint models/checkpoints/default \
        --order-data data/corpus2/val data/realcal \
        --data data/certify/train data/certify/val data/certify/test --out reports/certify

Writes report.json and loss_histogram.png to OUT."""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tqdm import tqdm  # noqa: E402

from models.card import OperatingPoint  # noqa: E402
from models.certify import certify, cheapest, risky_pages, safest_first  # noqa: E402
from models.checkpoint import load_checkpoint  # noqa: E402
from models.operating_points import validation  # noqa: E402
from models.policies import Policy, first_exit  # noqa: E402
from models.traces import Trace  # noqa: E402

log = logging.getLogger("docexit.certify_splits")


def accuracy(policy: Policy | None, traces: Sequence[Trace], labels: Sequence[int]) -> float:
    """None: full depth (each trace's whole-page final exit)."""
    right = [
        (t.full if policy is None else t.views[first_exit(policy, t.views)]).prediction == y
        for t, y in zip(traces, labels, strict=True)
    ]
    return sum(right) / len(right)


def one_split(
    ordered: list[OperatingPoint],
    traces: list[Trace],
    labels: list[int],
    rng: random.Random,
    epsilon: float,
    delta: float,
    harm: bool = False,
) -> dict[str, float | str]:
    order = list(range(len(traces)))
    rng.shuffle(order)
    cal, test = order[: len(order) // 2], order[len(order) // 2 :]
    cal_labels = [labels[i] for i in cal] if harm else None
    cert = certify(ordered, [traces[i] for i in cal], cal_labels, epsilon, delta)
    k = cert.certified_count()
    chosen = cheapest(ordered[:k])  # every point is tested, in this order
    policy = None if chosen is None else chosen.policy.build()
    t_traces, t_labels = [traces[i] for i in test], [labels[i] for i in test]
    early = accuracy(policy, t_traces, t_labels)
    return {
        "loss": accuracy(None, t_traces, t_labels) - early,
        "certified": float(k),
        "chosen": "none" if chosen is None else json.dumps(chosen.policy.spec()),
        "depth": 0.0 if chosen is None else chosen.depth,
    }


def plot(
    losses: list[float],
    epsilon: float,
    delta: float,
    exceed: float,
    out: Path,
) -> None:
    """The certified point's loss against full depth on each test half."""
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    bins = [x / 10 for x in range(-40, 41, 1)]
    ax.hist([100 * x for x in losses], bins=bins, color="#4477aa", label="vs full depth")
    ax.axvline(100 * epsilon, color="#cc3311", ls="--", label=f"ε = {epsilon:.0%}")
    ax.set_xlabel("accuracy lost by the cheapest certified point, test half (points)")
    ax.set_ylabel("splits")
    ax.set_title(f"{len(losses)} calibration/test splits, δ = {delta}: {exceed:.1%} above ε")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.certify_splits")
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--order-data", type=Path, nargs="+", required=True)
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, default=Path("reports/certify"))
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--epsilon", type=float, default=0.01)
    parser.add_argument("--delta", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--risk", choices=["disagreement", "harm"], default="disagreement")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model, card = load_checkpoint(args.checkpoint)
    order_val = validation(model, card, args.order_data, None)
    ordered = safest_first(
        card.policy_points(), order_val.traces, order_val.labels if args.risk == "harm" else None
    )
    val = validation(model, card, args.data, None)
    rng = random.Random(args.seed)
    rows = [
        one_split(
            ordered, val.traces, val.labels, rng, args.epsilon, args.delta, args.risk == "harm"
        )
        for _ in tqdm(range(args.splits), desc="splits", unit="split")
    ]
    losses = [float(r["loss"]) for r in rows]
    exceed = sum(loss > args.epsilon for loss in losses) / len(losses)
    full = accuracy(None, val.traces, val.labels)
    report = {
        "pages": len(val.labels),
        "data": [str(d) for d in args.data],
        "order_data": [str(d) for d in args.order_data],
        "splits": args.splits,
        "risk": args.risk,
        "epsilon": args.epsilon,
        "delta": args.delta,
        "share_of_splits_losing_more_than_epsilon": exceed,
        "mean_loss": statistics.fmean(losses),
        "losses": losses,
        "max_loss": max(losses),
        "splits_with_no_certified_point": sum(r["certified"] == 0 for r in rows),
        "mean_certified_points": statistics.fmean(float(r["certified"]) for r in rows),
        "mean_depth_of_chosen": statistics.fmean(float(r["depth"]) for r in rows),
        "chosen": dict(Counter(str(r["chosen"]) for r in rows).most_common()),
        # On every page at once: each candidate's risky pages and the accuracy it loses.
        "accuracy_full_depth": full,
        "points": [
            {
                "policy": p.policy.spec(),
                "harm": risky_pages(q, val.traces, val.labels) / len(val.labels),
                "disagreement": risky_pages(q, val.traces) / len(val.labels),
                "accuracy_loss": full - accuracy(q, val.traces, val.labels),
                "depth": p.depth,
            }
            for p in ordered
            if (q := p.policy.build()) is not None
        ],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    plot(losses, args.epsilon, args.delta, exceed, args.out / "loss_histogram.png")
    log.info("%s", json.dumps({k: v for k, v in report.items() if k != "points"}))


if __name__ == "__main__":
    main()
