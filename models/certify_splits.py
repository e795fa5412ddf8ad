"""Does the certificate hold? Split the validation pages at random into calibration and test
halves many times; certify on each calibration half (models.certify: answers that differ from
the cascade's when it never exits early), then measure on its test half the accuracy the
certified policy really loses against that cascade, and against full depth. The guarantee says the
loss exceeds ε in at most a δ share of splits.

    python -m models.certify_splits --checkpoint models/checkpoints/default \
        --data data/corpus2/val data/realcal --out reports/certify

Writes report.json and loss_histogram.png to OUT."""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from tqdm import tqdm  # noqa: E402

from models.certify import certify, disagreements  # noqa: E402
from models.checkpoint import load_checkpoint  # noqa: E402
from models.operating_points import validation  # noqa: E402
from models.policies import GlobalThreshold, Policy, first_exit  # noqa: E402
from models.traces import Trace  # noqa: E402

log = logging.getLogger("docexit.certify_splits")
# Fixed before any page is seen: from the safest threshold down to the cheapest.
TAUS = (0.999, 0.995, 0.99, 0.98, 0.97, 0.95, 0.93, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5)


def accuracy(policy: Policy | None, traces: list[Trace], labels: list[int]) -> float:
    if policy is None:
        right = [t.full.prediction == y for t, y in zip(traces, labels, strict=True)]
    else:
        right = [
            t.views[first_exit(policy, t.views)].prediction == y
            for t, y in zip(traces, labels, strict=True)
        ]
    return sum(right) / len(right)


def one_split(
    traces: list[Trace], labels: list[int], rng: random.Random, epsilon: float, delta: float
) -> dict[str, float]:
    order = list(range(len(traces)))
    rng.shuffle(order)
    cal, test = order[: len(order) // 2], order[len(order) // 2 :]
    candidates: list[Policy] = [GlobalThreshold(t) for t in TAUS]
    cert = certify(candidates, [traces[i] for i in cal], epsilon, delta)
    chosen = candidates[cert.certified - 1] if cert.certified else None  # None: full depth
    t_traces, t_labels = [traces[i] for i in test], [labels[i] for i in test]
    never, early = GlobalThreshold(2.0), chosen or GlobalThreshold(2.0)
    loss = accuracy(never, t_traces, t_labels) - accuracy(early, t_traces, t_labels)
    loss_full = accuracy(None, t_traces, t_labels) - accuracy(early, t_traces, t_labels)
    tau = TAUS[cert.certified - 1] if cert.certified else float("nan")
    return {"loss": loss, "loss_full": loss_full, "tau": tau, "certified": float(cert.certified)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m models.certify_splits")
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, default=Path("reports/certify"))
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--epsilon", type=float, default=0.01)
    parser.add_argument("--delta", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model, card = load_checkpoint(args.checkpoint)
    val = validation(model, card, args.data, None)
    rng = random.Random(args.seed)
    rows = [
        one_split(val.traces, val.labels, rng, args.epsilon, args.delta)
        for _ in tqdm(range(args.splits), desc="splits", unit="split")
    ]
    losses = [r["loss"] for r in rows]
    exceed = sum(loss > args.epsilon for loss in losses) / len(losses)
    report = {
        "pages": len(val.labels),
        "splits": args.splits,
        "epsilon": args.epsilon,
        "delta": args.delta,
        "share_of_splits_losing_more_than_epsilon": exceed,
        "mean_loss": statistics.fmean(losses),
        "max_loss": max(losses),
        "share_of_splits_losing_more_than_epsilon_against_full_depth": sum(
            r["loss_full"] > args.epsilon for r in rows
        )
        / len(rows),
        "splits_with_no_certified_policy": sum(r["certified"] == 0 for r in rows),
        "chosen_tau": {str(t): sum(r["tau"] == t for r in rows) for t in TAUS},
        # On every page at once: how often each candidate's answer differs from full depth's,
        # and the accuracy it loses; what a certificate on n pages can say depends on these.
        "disagreement_rate": {
            f"{ref}:{t}": disagreements(GlobalThreshold(t), val.traces, ref) / len(val.traces)
            for t in TAUS
            for ref in ("cascade", "full_depth")
        },
        "accuracy_loss": {
            str(t): accuracy(None, val.traces, val.labels)
            - accuracy(GlobalThreshold(t), val.traces, val.labels)
            for t in TAUS
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist([100 * x for x in losses], bins=30, color="#4477aa")
    ax.axvline(100 * args.epsilon, color="#cc3311", ls="--", label=f"ε = {args.epsilon:.0%}")
    ax.set_xlabel("accuracy lost against never exiting early, test half (points)")
    ax.set_ylabel("splits")
    ax.set_title(f"{args.splits} calibration/test splits, δ = {args.delta}: {exceed:.1%} above ε")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "loss_histogram.png", dpi=120)
    log.info("%s", json.dumps(report))


if __name__ == "__main__":
    main()
