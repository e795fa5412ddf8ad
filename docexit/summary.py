"""The table `docexit classify` prints at the end of a run, from the rows of the results file."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

from docexit.results import Row

ABSTAINED = "(abstained)"


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _table(title: str, counts: Counter[str], width: int) -> list[str]:
    lines = [f"{title:<{width}}  files"]
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {key:<{width - 2}}  {n:>5}")
    return lines


def summarize(rows: Iterable[Row], unfinished: int = 0) -> str:
    """Counts per class and per answering exit, OCR skipped, errors, client-measured latency
    percentiles and document pages read; unfinished: files this run never got an answer for."""
    rows = list(rows)
    ok = [r for r in rows if r["status"] == "ok"]
    errors = [r for r in rows if r["status"] != "ok"]
    classes = Counter(str(r["label"] or ABSTAINED) for r in ok)
    exits = Counter(str(r["exit"]) for r in ok)
    width = max([len("answering exit"), *(len(k) + 2 for k in [*classes, *exits])]) + 2
    head = f"{len(rows) + unfinished} files: {len(ok)} answered, {len(errors)} errors"
    lines = [head + (f", {unfinished} not answered (run again to resume)" if unfinished else "")]
    lines += _table("class", classes, width) + _table("answering exit", exits, width)
    skipped = sum(1 for r in ok if r["ocr_skipped"])
    lines.append(f"OCR skipped: {skipped} of {len(ok)} answered")
    if errors:
        by_status = Counter(str(r["http_status"] or "no answer") for r in errors)
        detail = ", ".join(f"{status}: {n}" for status, n in sorted(by_status.items()))
        lines.append(f"errors: {len(errors)} ({detail})")
    latencies = [float(r["latency_ms"]) for r in ok if r["latency_ms"] is not None]
    if latencies:
        p = {q: percentile(latencies, q) for q in (50, 90, 99)}
        lines.append(
            f"latency ms (client-measured, {len(latencies)} answers): "
            f"p50 {p[50]:.0f}  p90 {p[90]:.0f}  p99 {p[99]:.0f}"
        )
    documents = [r for r in ok if r["page_count"] is not None]
    if documents:
        read = sum(int(r["pages_read"]) for r in documents)
        total = sum(int(r["page_count"]) for r in documents)
        lines.append(f"document pages read: {read} of {total} in {len(documents)} documents")
    return "\n".join(lines) + "\n"
