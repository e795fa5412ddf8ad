"""reports/gpu: results.json, report.md and its plots, from loadtests.gpu_bench's numbers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen

PLOTS = ("throughput.png", "latency.png", "saved.png", "arrivals.png")
SPEEDUP = 3.0  # early exit at its best batch against full depth at batch 1
P95_HALF_MS = 100.0  # encoder p95 at half of saturation


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    one = next(x for x in r["full_depth"] if x["batch"] == min(y["batch"] for y in r["full_depth"]))
    best = max(r["early_exit"], key=lambda x: x["throughput"])
    speedup = best["throughput"] / one["throughput"]
    half = [a for a in r["arrivals"] if a["share"] == 0.5]
    out = [
        {
            "target": f"early exit at its best batch >= {SPEEDUP:g}x full depth at batch 1",
            "value": speedup,
            "met": speedup >= SPEEDUP,
        }
    ]
    if half:
        out.append(
            {
                "target": f"encoder p95 at 50% of saturation < {P95_HALF_MS:g} ms",
                "value": half[0]["p95_ms"],
                "met": half[0]["p95_ms"] < P95_HALF_MS,
            }
        )
    return out


def _plot(r: dict[str, Any], out: Path) -> None:
    for name, key, label in (
        ("throughput.png", "throughput", "pages/s"),
        ("latency.png", "p95_ms", "batch p95 (ms)"),
        ("saved.png", "saved", "layer work saved by dropping answered pages"),
    ):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for series, colour in (("full_depth", "tab:red"), ("early_exit", "tab:blue")):
            xs = [x["batch"] for x in r[series]]
            ax.plot(xs, [x[key] for x in r[series]], "o-", color=colour, label=series)
        ax.set_xscale("log", base=2)
        ax.set(xlabel="batch size", ylabel=label)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot([a["rate"] for a in r["arrivals"]], [a["p95_ms"] for a in r["arrivals"]], "o-")
    ax.set(xlabel="arrival rate (pages/s)", ylabel="p95 (ms), arrival to answer")
    fig.tight_layout()
    fig.savefig(out / "arrivals.png", dpi=110)
    plt.close(fig)


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| batch | pages/s | p50 ms | p95 ms | layer work saved | mean mm layer |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for x in rows:
        lines.append(
            f"| {x['batch']} | {x['throughput']:.1f} | {x['p50_ms']:.1f} | {x['p95_ms']:.1f} "
            f"| {100 * x['saved']:.1f}% | {x['mean_mm_layer']:.2f} |"
        )
    return lines


def write(r: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    r = {**r, "targets": targets(r)}
    (out / "results.json").write_text(json.dumps(r, indent=2) + "\n")
    _plot(r, out)
    lines = [
        "# The encoder on a GPU",
        "",
        f"Written by `{r['command']}` on {r['device']} ({r['dtype']}, torch {r['torch']}), "
        f"{r['pages']} generated pages with their own words (no OCR), checkpoint "
        f"`{r['checkpoint']}`, early exit under `{r['policy']}`.",
        "",
        "## Targets",
        "",
        *[
            f"- {t['target']}: {t['value']:.2f}: {'met' if t['met'] else 'not met'}"
            for t in r["targets"]
        ],
        "",
        "## Full depth",
        "",
        *_table(r["full_depth"]),
        "",
        "## Early exit",
        "",
        *_table(r["early_exit"]),
        "",
        "## Fixed arrival rates (early exit, each page on its own thread through the batcher)",
        "",
        "| share of saturation | pages/s | pages | p50 ms | p95 ms |",
        "| --- | --- | --- | --- | --- |",
        *[
            f"| {a['share']:.0%} | {a['rate']:.1f} | {a['pages']} | {a['p50_ms']:.1f} "
            f"| {a['p95_ms']:.1f} |"
            for a in r["arrivals"]
        ],
        "",
        *[f"![{p}]({p})" for p in PLOTS],
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
