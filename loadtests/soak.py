"""Soak: steady load on one docexit process for a long time, its resident memory sampled
throughout; passes when no request failed and memory grew at most --max-growth.

    python -m loadtests.soak --out reports/soak --minutes 20        (make soak)

Load: --concurrency clients in a closed loop over generated pages of every class, rotating
through what a real mix sends (the card's policy, a latency budget, the client's own OCR, full
depth). Memory: VmRSS of the server process every --sample-s. The first --warmup-minutes are
excluded (allocator arenas, torch and Tesseract caches fill up then); growth compares the median
of the last minute with the median of the minute after the warm-up, so one transient peak
neither hides nor fakes a leak."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from loadtests import servers
from loadtests.client import PageCycle, Sample, Variant, client, send
from loadtests.pages import make_pages

log = logging.getLogger("docexit.loadtests.soak")
MIX: list[tuple[dict[str, str], bool]] = [  # (form fields, client OCR)
    ({}, False),
    ({"latency_budget_ms": "1000"}, False),
    ({}, True),
    ({"full_depth": "true"}, False),
]
WINDOW_S = 60.0  # the medians compared: a minute after the warm-up, the last minute


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.soak", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("reports/soak"))
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--warmup-minutes", type=float, default=2.0)
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--per-class", type=int, default=2, help="generated pages per class")
    p.add_argument("--sample-s", type=float, default=5.0, help="seconds between RSS samples")
    p.add_argument("--max-growth", type=float, default=0.05)
    p.add_argument("--pages-dir", type=Path, default=Path("build/bench-pages"))
    return p.parse_args(argv)


def load(url: str, cycle: PageCycle, stop: threading.Event, out: list[Sample]) -> None:
    """One closed-loop client until `stop`; every answer is kept."""
    t0, i = time.monotonic(), 0
    with client() as http:
        while not stop.is_set():
            fields, own_ocr = MIX[i % len(MIX)]
            i += 1
            out.append(send(http, Variant("soak", "soak", url), cycle.next(), t0, own_ocr, fields))


def growth(rss: list[tuple[float, int]], warmup_s: float, end_s: float) -> dict[str, Any]:
    """Median RSS in the minute after the warm-up against the last minute's."""
    window = min(WINDOW_S, max(1e-9, (end_s - warmup_s) / 2))
    first = [b for t, b in rss if warmup_s <= t < warmup_s + window]
    last = [b for t, b in rss if t >= end_s - window]
    if not first or not last:
        raise RuntimeError("too few RSS samples: run longer or sample more often")
    base, final = statistics.median(first), statistics.median(last)
    return {"baseline_bytes": base, "final_bytes": final, "growth": final / base - 1.0}


def run(args: argparse.Namespace) -> dict[str, Any]:
    args.out.mkdir(parents=True, exist_ok=True)
    pages = make_pages(args.pages_dir, args.per_class)
    server = servers.docexit(args.concurrency, 16, "soak-admin-token-not-used-0123", args.out)
    try:
        server.wait_ready()
        stop = threading.Event()
        samples: list[Sample] = []
        rss: list[tuple[float, int]] = []
        cycle = PageCycle(pages)
        users = [
            threading.Thread(target=load, args=(server.url, cycle, stop, samples), daemon=True)
            for _ in range(args.concurrency)
        ]
        total_s, t0 = args.minutes * 60.0, time.monotonic()
        for u in users:
            u.start()
        with tqdm(total=round(total_s), unit="s", desc="soak") as bar:
            while (now := time.monotonic() - t0) < total_s:
                rss.append((now, servers.rss_bytes(server.proc.pid)))
                bar.update(round(now) - bar.n)
                bar.set_postfix(requests=len(samples), rss_mib=rss[-1][1] >> 20)
                time.sleep(min(args.sample_s, max(0.0, total_s - now)))
            rss.append((time.monotonic() - t0, servers.rss_bytes(server.proc.pid)))
        stop.set()
        for u in users:
            u.join(timeout=300)
    finally:
        server.stop()
    statuses = Counter(s.status for s in samples)
    result = {
        "minutes": args.minutes,
        "warmup_minutes": args.warmup_minutes,
        "concurrency": args.concurrency,
        "requests": len(samples),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": sum(not s.ok for s in samples),
        "error_examples": [s.error for s in samples if not s.ok][:5],
        "mean_latency_s": statistics.fmean(s.latency_s for s in samples) if samples else None,
        "max_growth": args.max_growth,
        **growth(rss, args.warmup_minutes * 60.0, rss[-1][0]),
        "rss": rss,
    }
    result["passed"] = result["errors"] == 0 and result["growth"] <= args.max_growth
    (args.out / "soak.json").write_text(json.dumps(result, indent=1))
    (args.out / "report.md").write_text(report(result, plot(rss, args.out)))
    return result


def plot(rss: list[tuple[float, int]], out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot([t / 60 for t, _ in rss], [b / 2**20 for _, b in rss])
    ax.set_xlabel("minutes")
    ax.set_ylabel("server RSS (MiB)")
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(out / "rss.png", dpi=100)
    plt.close(fig)
    return "rss.png"


def report(r: dict[str, Any], image: str) -> str:
    mib = 2**20
    verdict = "met" if r["passed"] else "NOT met"
    return "\n".join(
        [
            f"# Soak: {r['minutes']:g} minutes, {r['concurrency']} clients",
            "",
            f"- requests: {r['requests']}, statuses {r['statuses']}, errors {r['errors']}",
            f"- mean latency: {r['mean_latency_s']:.2f} s",
            f"- RSS after the {r['warmup_minutes']:g}-minute warm-up (median of a minute): "
            f"{r['baseline_bytes'] / mib:.0f} MiB; last minute: {r['final_bytes'] / mib:.0f} MiB;"
            f" growth {100 * r['growth']:+.1f}% (at most {100 * r['max_growth']:.0f}%)",
            f"- target (no errors, growth within bound): **{verdict}**",
            "",
            f"![server RSS over the soak]({image})",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    result = run(parse(argv))
    log.info(
        "%d requests, %d errors, RSS growth %+.1f%%: %s",
        result["requests"],
        result["errors"],
        100 * result["growth"],
        "passed" if result["passed"] else "FAILED",
    )
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
