"""Per-class accuracy and confusion matrices of an evaluation run, as numbers and as Markdown.

The issue's yardstick for real pages: overall and macro accuracy, every class's accuracy, what
each class is taken for, and how well the answers' confidences are calibrated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from models.calibration import ece
from models.data.labels import CLASSES


def class_report(truth: Sequence[int], answers: Sequence[int]) -> dict[str, Any]:
    """accuracy, macro_accuracy (mean over the classes present), per_class and confusion
    (true class -> predicted class -> pages) of one set of answers."""
    present = sorted(set(truth))
    confusion = {
        CLASSES[t]: {CLASSES[p]: 0 for p in sorted(set(answers) | set(present))} for t in present
    }
    for t, p in zip(truth, answers, strict=True):
        confusion[CLASSES[t]][CLASSES[p]] += 1
    per_class = {name: row[name] / max(1, sum(row.values())) for name, row in confusion.items()}
    right = sum(t == p for t, p in zip(truth, answers, strict=True))
    return {
        "accuracy": right / max(1, len(truth)),
        "macro_accuracy": sum(per_class.values()) / max(1, len(per_class)),
        "per_class": per_class,
        "pages_per_class": {name: sum(row.values()) for name, row in confusion.items()},
        "confusion": {t: {p: n for p, n in row.items() if n} for t, row in confusion.items()},
    }


def answer_ece(probs: Sequence[Sequence[float]], truth: Sequence[int]) -> float:
    """Expected calibration error of the answers' calibrated probabilities."""
    return ece(torch.tensor(probs), torch.tensor(truth))


def short(name: str) -> str:
    """A column heading: the first four letters, told apart for the two scientific classes."""
    return {"scientific_report": "sci.rep", "scientific_publication": "sci.pub"}.get(name, name[:4])


def markdown(full: dict[str, Any], early: dict[str, Any]) -> str:
    """Per-class table (full depth and default policy) and the default policy's confusion
    matrix, classes abbreviated by short() in the columns."""
    lines = ["| class | pages | full depth | default policy |", "| --- | --- | --- | --- |"]
    for name, n in full["pages_per_class"].items():
        lines.append(
            f"| {name} | {n} | {100 * full['per_class'][name]:.0f}% "
            f"| {100 * early['per_class'][name]:.0f}% |"
        )
    lines.append(
        f"| **all (macro)** | {sum(full['pages_per_class'].values())} "
        f"| {100 * full['accuracy']:.1f}% ({100 * full['macro_accuracy']:.1f}%) "
        f"| {100 * early['accuracy']:.1f}% ({100 * early['macro_accuracy']:.1f}%) |"
    )
    columns = sorted({p for row in early["confusion"].values() for p in row}, key=CLASSES.index)
    lines += ["", "| true \\ answered | " + " | ".join(short(c) for c in columns) + " |"]
    lines.append("| --- |" + " --- |" * len(columns))
    for name, row in early["confusion"].items():
        cells = [str(row.get(c, "")) if c != name else f"**{row.get(c, 0)}**" for c in columns]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
