"""`make bench-gpu`: the encoder stage on a GPU, pages bringing their own words (no OCR), so
that what is measured is the model and the batching around it. Writes report.md, results.json
and PNG plots to --out (reports/gpu):

- throughput and p50/p95 against batch size, full depth and the card's default early exit
  (models.runtime.Cascade.classify_together: one vision pass, one multimodal pass);
- the share of layer work that dropping answered pages saved (models.batched.PassStats);
- p95 at fixed arrival rates (shares of the best early-exit throughput), each page on its own
  thread through the service's batcher (models.batched.Batcher), as the service runs them.

Without a GPU it says so and exits with status 2; --allow-cpu runs it anyway (for its tests).

    python -m loadtests.gpu_bench --out reports/gpu
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from loadtests import gpu_report
from loadtests.pages import BENCH_SEED, make_pages
from models.batched import Batcher, PassStats, run_pass
from models.checkpoint import load_checkpoint
from models.policies import Policy
from models.runtime import Cascade, Words

log = logging.getLogger("docexit.loadtests.gpu_bench")
NEEDS_GPU = (
    "bench-gpu measures the encoder on a GPU and torch sees none here. Run it on a machine "
    "with one (`make bench-gpu`), or pass --allow-cpu to check that it runs."
)
Page = tuple[Image.Image, Words]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtests.gpu_bench", description=__doc__)
    p.add_argument("--out", type=Path, default=Path("reports/gpu"))
    p.add_argument("--checkpoint", type=Path, default=Path("models/checkpoints/default"))
    p.add_argument("--pages-dir", type=Path, default=Path("build/bench-pages"))
    p.add_argument("--per-class", type=int, default=16, help="generated pages per class")
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    p.add_argument("--rates", type=float, nargs="+", default=[0.25, 0.5, 0.75])
    p.add_argument("--seconds", type=float, default=20.0, help="per arrival rate")
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default="bfloat16")
    p.add_argument("--allow-cpu", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def read_pages(args: argparse.Namespace) -> list[Page]:
    pages = make_pages(args.pages_dir, args.per_class, BENCH_SEED)
    out: list[Page] = []
    for p in pages:
        record = json.loads(p.path.with_suffix(".json").read_text())
        words: Words = ([w["text"] for w in record["words"]], [w["box"] for w in record["words"]])
        out.append((Image.open(p.path).convert("L"), words))
    return out


def synced(device: str) -> Callable[[], None]:
    return torch.cuda.synchronize if device == "cuda" else (lambda: None)


def sweep(
    cascade: Cascade,
    pages: list[Page],
    policy: Policy | None,
    sizes: list[int],
    progress: bool,
) -> list[dict[str, Any]]:
    """Every page once at each batch size: throughput, batch latency, compaction's saving."""
    sync, rows = synced(cascade.device.type), []
    stats: list[PassStats] = []
    cascade.passes = lambda c, kind, lanes: stats.append(run_pass(c, kind, lanes))
    name = "full depth" if policy is None else "early exit"
    for size in tqdm(sizes, desc=name, unit="size", disable=not progress):
        stats.clear()
        latencies, exits, start = [], [], time.perf_counter()
        for i in range(0, len(pages), size):
            t = time.perf_counter()
            answers = cascade.classify_together(pages[i : i + size], policy)
            sync()
            latencies += [time.perf_counter() - t] * len(answers)
            exits += [a.layer if a.stage == "multimodal" else 0 for a in answers]
        wall = time.perf_counter() - start
        run = sum(s.layer_rows for s in stats)
        full = sum(s.full_rows for s in stats)
        rows.append(
            {
                "batch": size,
                "throughput": len(pages) / wall,
                "p50_ms": 1000 * float(np.percentile(latencies, 50)),
                "p95_ms": 1000 * float(np.percentile(latencies, 95)),
                "saved": 1.0 - run / full if full else 0.0,
                "mean_mm_layer": float(np.mean(exits)),
            }
        )
    cascade.passes = run_pass
    return rows


def arrivals(
    cascade: Cascade,
    pages: list[Page],
    policy: Policy | None,
    rate: float,
    seconds: float,
    max_batch: int,
) -> dict[str, Any]:
    """Poisson arrivals at `rate` pages/s for `seconds`, each page on its own thread through a
    batcher: latency from arrival to answer."""
    rng = random.Random(7)
    batcher = Batcher(max_batch, max_wait_s=0.002)
    live = cascade.alone()
    live.passes = batcher
    latencies: list[float] = []
    lock = threading.Lock()

    def one(page: Page, arrived: float) -> None:
        live.classify(page[0], words=page[1], policy=policy)
        with lock:
            latencies.append(time.perf_counter() - arrived)

    start, n = time.perf_counter(), 0
    with ThreadPoolExecutor(4 * max_batch) as pool:
        at = start
        while at - start < seconds:
            at += rng.expovariate(rate)
            time.sleep(max(0.0, at - time.perf_counter()))
            pool.submit(one, pages[n % len(pages)], time.perf_counter())
            n += 1
    batcher.close()
    return {
        "rate": rate,
        "pages": n,
        "p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "p95_ms": 1000 * float(np.percentile(latencies, 95)),
    }


def run(args: argparse.Namespace) -> Path | None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.allow_cpu:
        log.error(NEEDS_GPU)
        return None
    model, card = load_checkpoint(args.checkpoint, device)
    dtype = None if args.dtype == "float32" else getattr(torch, args.dtype)
    cascade = Cascade.from_card(model, card, device, dtype)
    default = card.default_policy()
    policy = None if default is None else default.build()
    pages = read_pages(args)
    progress = not args.no_progress
    with torch.inference_mode():
        cascade.classify_together(pages[:2], policy)  # warm-up: lazy allocations, kernels
    full = sweep(cascade, pages, None, args.sizes, progress)
    early = sweep(cascade, pages, policy, args.sizes, progress)
    best = max(early, key=lambda r: r["throughput"])
    rates = [best["throughput"] * share for share in args.rates]
    fixed = []
    shares = list(zip(args.rates, rates, strict=True))
    for share, rate in tqdm(shares, desc="arrivals", disable=not progress):
        measured = arrivals(cascade, pages, policy, rate, args.seconds, best["batch"])
        fixed.append({"share": share, **measured})
    results = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
        "dtype": args.dtype,
        "torch": torch.__version__,
        "checkpoint": str(args.checkpoint),
        "policy": None if default is None else default.spec(),
        "pages": len(pages),
        "full_depth": full,
        "early_exit": early,
        "arrivals": fixed,
        "command": "python -m loadtests.gpu_bench " + " ".join(sys.argv[1:]),
    }
    return gpu_report.write(results, args.out)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = run(parse(argv))
    if path is None:
        sys.exit(2)
    print(path)  # noqa: T201 - the CLI's one output: where the report is


if __name__ == "__main__":
    main()
