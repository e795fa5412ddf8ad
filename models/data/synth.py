"""Generate the synthetic RVL-CDIP-style corpus.

    python -m models.data.synth --out DIR --per-class N --seed S [--workers K]

writes DIR/{train,val,test}/<class>/<id>.png and <id>.json (words with boxes, label, key fields,
layout family and degradation) and DIR/corpus.json (arguments, counts, timing). Pages depend only
on (seed, class, index), so the same seed gives byte-identical files with any number of workers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing as mp
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from models.data.labels import CLASSES
from models.data.page import GENERATOR_VERSION, render

SPLITS = ("train", "val", "test")
log = logging.getLogger("docexit.synth")


@dataclass(frozen=True)
class Job:
    out: str
    split: str
    label: str
    index: int
    seed: int
    clean_fraction: float


def page_seed(seed: int, label: str, index: int) -> int:
    """Stable across processes and Python versions (unlike hash())."""
    digest = hashlib.sha256(f"docexit:{seed}:{label}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def split_sizes(n: int, ratios: tuple[float, float, float]) -> dict[str, int]:
    """Pages per split for one class; every split gets at least one page once n >= 3."""
    total = sum(ratios)
    val = round(n * ratios[1] / total)
    test = round(n * ratios[2] / total)
    if n >= 3:
        val, test = max(1, val), max(1, test)
    return {"train": n - val - test, "val": val, "test": test}


def plan(
    out: Path,
    per_class: int,
    seed: int,
    ratios: tuple[float, float, float],
    clean_fraction: float,
    classes: tuple[str, ...] = CLASSES,
) -> list[Job]:
    jobs = []
    sizes = split_sizes(per_class, ratios)
    for label in classes:
        index = 0
        for split in SPLITS:
            for _ in range(sizes[split]):
                jobs.append(
                    Job(
                        str(out), split, label, index, page_seed(seed, label, index), clean_fraction
                    )
                )
                index += 1
    return jobs


def write_page(job: Job) -> tuple[str, str]:
    page = render(job.label, job.seed, job.clean_fraction)
    folder = Path(job.out) / job.split / job.label
    folder.mkdir(parents=True, exist_ok=True)
    page_id = f"{job.label}-{job.index:06d}"
    # compress_level 3: several times faster than the default at about 10% more bytes.
    page.image.save(folder / f"{page_id}.png", compress_level=3)
    record = {"id": page_id, "split": job.split, **page.record}
    (folder / f"{page_id}.json").write_text(json.dumps(record, ensure_ascii=False))
    return job.split, job.label


def generate(
    out: Path,
    per_class: int,
    seed: int,
    workers: int = 1,
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    clean_fraction: float = 0.25,
    classes: tuple[str, ...] = CLASSES,
    progress: bool = True,
) -> dict[str, object]:
    """Write the corpus and its summary; returns the summary."""
    jobs = plan(out, per_class, seed, ratios, clean_fraction, classes)
    start = time.perf_counter()
    counts: Counter[tuple[str, str]] = Counter()
    bar = tqdm(total=len(jobs), unit="page", desc="synth", disable=not progress)
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            for key in pool.imap_unordered(write_page, jobs, chunksize=4):
                counts[key] += 1
                bar.update()
    else:
        for job in jobs:
            counts[write_page(job)] += 1
            bar.update()
    bar.close()
    seconds = time.perf_counter() - start
    summary: dict[str, object] = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "per_class": per_class,
        "ratios": list(ratios),
        "clean_fraction": clean_fraction,
        "pages": len(jobs),
        "counts": {s: {c: counts[(s, c)] for c in classes} for s in SPLITS},
        "seconds": round(seconds, 2),
        "pages_per_second": round(len(jobs) / seconds, 2) if seconds else None,
    }
    # The summary holds timings, so it lives outside the split folders whose bytes are compared.
    (out / "corpus.json").write_text(json.dumps(summary, indent=2))
    return summary


def summary_line(summary: dict[str, object]) -> str:
    counts = summary["counts"]
    assert isinstance(counts, dict)
    per_split = ", ".join(
        f"{s} {sum(counts[s].values())} ({min(counts[s].values())}-"
        f"{max(counts[s].values())} per class)"
        for s in SPLITS
    )
    return (
        f"synth: {summary['pages']} pages in {summary['seconds']} s "
        f"({summary['pages_per_second']} pages/s): {per_split}"
    )


def _ratios(text: str) -> tuple[float, float, float]:
    parts = tuple(float(p) for p in text.split(","))
    if len(parts) != 3 or min(parts) < 0 or sum(parts) <= 0:
        raise argparse.ArgumentTypeError(
            "--splits takes three non-negative numbers, e.g. 0.8,0.1,0.1"
        )
    return parts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.data.synth", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--per-class", type=int, required=True, help="pages per class, all splits together"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--splits", type=_ratios, default=(0.8, 0.1, 0.1), help="train,val,test ratios"
    )
    parser.add_argument(
        "--clean-fraction",
        type=float,
        default=0.25,
        help="share of pages left undegraded (clean scans)",
    )
    parser.add_argument("--classes", nargs="+", choices=CLASSES, default=list(CLASSES))
    args = parser.parse_args(argv)
    if args.per_class < 1:
        parser.error("--per-class must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    summary = generate(
        args.out,
        args.per_class,
        args.seed,
        max(1, args.workers),
        args.splits,
        args.clean_fraction,
        tuple(args.classes),
    )
    log.info(summary_line(summary))
    counts = summary["counts"]
    assert isinstance(counts, dict)
    for label in args.classes:
        log.info("  %-24s %s", label, "  ".join(f"{s} {counts[s][label]}" for s in SPLITS))


if __name__ == "__main__":
    main()
