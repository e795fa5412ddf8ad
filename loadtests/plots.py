"""The report's PNG plots (matplotlib, Agg): latency-accuracy per policy, exit layers, latency
CDF, budget sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from loadtests.phases import KEYS  # noqa: E402

COLOURS = {"a": "tab:blue", "b": "tab:red", "c": "tab:gray"}


def _save(fig: Figure, out: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out / name, dpi=110)
    plt.close(fig)
    return name


def latency_accuracy(r: dict[str, Any], out: Path) -> str:
    fig, ax = plt.subplots(figsize=(8, 5.5))
    families = sorted({p["policy"]["name"] for p in r["policies"].values()})
    cmap = plt.get_cmap("tab10")
    for i, fam in enumerate(families):
        colour = cmap((i + 3) % 10)
        card = sorted(
            (1000 * p["end_to_end_s"], p["accuracy"]) for p in r["card_points"] if p["name"] == fam
        )
        if card:
            ax.plot(*zip(*card, strict=True), "--", color=colour, alpha=0.35, lw=1)
        live = sorted(
            (p["mean_ms"], p["accuracy"])
            for p in r["policies"].values()
            if p["policy"]["name"] == fam and p["answered"]
        )
        if live:
            ax.plot(*zip(*live, strict=True), "o-", color=colour, label=f"{fam} (live)")
    sweep = [(b["mean_ms"], b["accuracy"]) for b in r["sweep"]["budgets"] if b["answered"]]
    if sweep:
        ax.plot(*zip(*sweep, strict=True), "^-", color="black", label="budget sweep (auto policy)")
    for k in KEYS:
        s = r["compare"][k]
        label = f"{k}: {r['meta']['variants'][k]}"
        ax.plot(s["mean_ms"], s["accuracy"], "*", ms=16, color=COLOURS[k], label=label)
    ax.set_xscale("log")
    ax.set_xlabel("mean end-to-end latency, ms (log; dashed: card, validation, modelled)")
    ax.set_ylabel("accuracy")
    ax.set_title("Latency and accuracy per policy (live, this run)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, out, "latency_accuracy.png")


def exit_layers(r: dict[str, Any], out: Path) -> str:
    exits = r["exits"] or sorted(r["compare"]["a"]["exits"])
    fig, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(exits))
    for j, (k, label) in enumerate((("a", "a: default policy"), ("b", "b: full depth"))):
        counts = r["compare"][k]["exits"]
        total = max(1, sum(counts.values()))
        shares = [counts.get(e, 0) / total for e in exits]
        ax.bar(x + (j - 0.5) * 0.4, shares, 0.4, color=COLOURS[k], label=label)
    ax.set_xticks(x, exits, rotation=45, ha="right")
    ax.set_ylabel("share of pages")
    ax.set_title("Where pages exit (compare phase; c always runs to the final classifier)")
    ax.legend()
    return _save(fig, out, "exit_layers.png")


def latency_cdf(raw: dict[str, Any], out: Path) -> str:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for k in KEYS:
        for samples, style, where in (
            (raw["compare"], "-", "one at a time"),
            (raw["saturation"][k]["samples"], ":", "at saturation"),
        ):
            ms = np.sort([1000 * s.latency_s for s in samples if s.variant == k and s.ok])
            if len(ms):
                y = np.arange(0, len(ms) + 1) / len(ms)  # from 0 at the fastest answer
                xs = np.concatenate([ms[:1], ms])
                ax.step(xs, y, style, where="post", color=COLOURS[k], label=f"{k}, {where}")
    ax.set_xscale("log")
    ax.set_xlabel("end-to-end latency, ms (log)")
    ax.set_ylabel("share of requests")
    ax.set_title("Latency CDF")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, out, "latency_cdf.png")


def budget_sweep(r: dict[str, Any], out: Path) -> str:
    sw = r["sweep"]
    rows = [b for b in sw["budgets"] if b["answered"]]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if rows:
        budgets = [b["budget_ms"] for b in rows]
        ax.plot(budgets, [b["p95_ms"] for b in rows], "o-", color="tab:blue", label="p95")
        ax.plot(budgets, [b["p50_ms"] for b in rows], ".--", color="tab:blue", label="p50")
        ax.plot(budgets, budgets, "-", color="black", lw=0.8, label="latency = budget")
        acc = ax.twinx()
        acc.plot(budgets, [b["accuracy"] for b in rows], "s-", color="tab:green")
        acc.set_ylabel("accuracy", color="tab:green")
        acc.set_ylim(0, 1.05)
    ax.axvline(sw["smallest_useful_ms"], color="tab:orange", ls=":", label="smallest useful")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("latency budget, ms")
    ax.set_ylabel("latency, ms")
    ax.set_title("Budget sweep: latency and accuracy against the budget")
    ax.legend(fontsize=8, loc="upper left")
    return _save(fig, out, "budget_sweep.png")


def draw(r: dict[str, Any], raw: dict[str, Any], out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    return {
        "latency_accuracy": latency_accuracy(r, out),
        "exit_layers": exit_layers(r, out),
        "latency_cdf": latency_cdf(raw, out),
        "budget_sweep": budget_sweep(r, out),
    }
