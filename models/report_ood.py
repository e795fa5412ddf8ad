"""reports/ood/README.md from the report models.ood_eval computes: one table per question."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render(report: dict[str, Any]) -> str:
    pages, scores, chosen = report["pages"], report["scores"], report["chosen"]
    c = scores[chosen]
    kinds = list(pages["outofscope_kinds"])
    lines = [
        "# Abstention on pages outside the 16 classes",
        "",
        "Written by `python -m models.ood_eval` (numbers in `report.json`). Scores are taken at",
        f"the answering exit of the card's default policy (`{report['policy']['name']}`), pages",
        "read as the cascade reads them (top band's OCR first). In-class pages:",
        f"{pages['threshold']} threshold pages ({', '.join(report['data']['threshold'])}) and",
        f"{pages['realval']} real validation pages ({report['data']['realval']}, never used to",
        f"choose); out of scope: {pages['outofscope']} pages ({report['data']['outofscope']}).",
        "",
        f"**Chosen: `{chosen}`** (best AUROC on the threshold pages), threshold "
        f"{c['threshold']:.4f}, set to abstain on at most {_pct(report['abstain_target'])} of the "
        "threshold pages.",
        "",
        "| score | AUROC threshold pages | AUROC realval | abstained threshold pages "
        "| abstained realval | out-of-scope caught |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for kind, s in scores.items():
        mark = f"**{kind}**" if kind == chosen else kind
        lines.append(
            f"| {mark} | {s['auroc_threshold_pages']:.3f} | {s['auroc_realval']:.3f} | "
            f"{_pct(s['abstained_threshold_pages'])} | {_pct(s['abstained_realval'])} | "
            f"{_pct(s['caught_outofscope'])} |"
        )
    lines += [
        "",
        "Per out-of-scope kind (realval against that kind; caught at the chosen threshold):",
        "",
        "| kind | pages | " + " | ".join(f"AUROC {k}" for k in scores) + " | caught |",
        "| --- | --- | " + " | ".join("---" for _ in scores) + " | --- |",
    ]
    for k in kinds:
        aurocs = " | ".join(f"{scores[s]['auroc_realval_by_kind'][k]:.3f}" for s in scores)
        lines.append(
            f"| {k} | {pages['outofscope_kinds'][k]} | {aurocs} | {_pct(c['caught_by_kind'][k])} |"
        )
    exits = report["answering_exits"]
    names = [e for e in next(iter(exits.values())) if any(v[e] for v in exits.values())]
    lines += [
        "",
        "Answering exits:",
        "",
        "| pages | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]
    lines += [f"| {n} | " + " | ".join(str(v[e]) for e in names) + " |" for n, v in exits.items()]
    return "\n".join(lines) + "\n"


def write_readme(path: Path, report: dict[str, Any]) -> None:
    path.write_text(render(report))
