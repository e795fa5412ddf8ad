"""The README's benchmark section from a bench run: the targets, the headline table and the plots,
with links relative to the repository root (written as readme_section.md beside the report)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loadtests import report
from loadtests.servers import ROOT


def section(r: dict[str, Any], images: dict[str, str], out: Path) -> str:
    folder = out.resolve()
    where = str(folder.relative_to(ROOT)) if folder.is_relative_to(ROOT) else str(folder)
    m = r["meta"]
    headline = report.headline(r)[2:]  # without its own heading
    lines = [
        "## Benchmark",
        "",
        f"`make bench`, one run on this machine ({m['cpus']} CPUs, {m['wall_s'] / 60:.1f} min, "
        f"{m['started']}): {m['pages']} generated pages the model never saw, OCR {m['ocr']}, "
        f"{m['workers']} workers per server. Full report: [{where}/report.md]({where}/report.md).",
        "",
        *report.targets(r)[2 : -len(r["targets"]) - 1],
        "",
        *headline,
        "",
        *report.accuracy(r)[2:],
        "",
        f"![latency and accuracy per policy]({where}/{images['latency_accuracy']})",
        f"![exit layers]({where}/{images['exit_layers']})",
        f"![latency CDF]({where}/{images['latency_cdf']})",
        f"![budget sweep]({where}/{images['budget_sweep']})",
    ]
    return "\n".join(lines) + "\n"
