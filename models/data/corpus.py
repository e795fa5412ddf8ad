"""Corpus v2: pages from several document engines, half of them put through a scan.

    python -m models.data.corpus --out DIR --per-class N [--seed S] [--workers K]

writes DIR/{train,val,test}/<class>/<id>.png and <id>.json in the layout of models.data.synth (so
models.dataset, models.data.ocr and training read it unchanged) and DIR/corpus.json. Each page's
engine is drawn from ENGINE_SHARE among the engines that render its class:
  synth   the hand-written PIL generator (1990s typewritten and scanned look; degrades itself)
  html    our HTML/CSS templates laid out by WeasyPrint
  office  our Word documents converted by LibreOffice
  sheets  our spreadsheets converted by LibreOffice Calc or Gnumeric
Engine pages are born-digital; SCANNED_SHARE of them then go through models.data.scan. Every
record names engine, template, seed, text source and licence. Pages depend only on (seed, class,
index); a page whose JSON exists is not rendered again, so an interrupted run resumes."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import multiprocessing as mp
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from models.data import scan
from models.data.engines import html, office, sheets
from models.data.engines.base import EnginePage, Word
from models.data.labels import CLASSES
from models.data.page import render as synth_render
from models.data.synth import SPLITS, split_sizes

log = logging.getLogger("docexit.corpus")
CORPUS_VERSION = "2.0"
# Share of each engine in a class, before renormalising over the engines that render it. The
# PIL generator stays one look among many; real users mostly send modern documents.
ENGINE_SHARE = {"synth": 0.2, "html": 0.4, "office": 0.3, "sheets": 0.3}
SCANNED_SHARE = 0.5  # half the engine pages stay clean: users send PDFs too
SYNTH_CLEAN_FRACTION = 0.25  # models.data.synth's default
# Jobs of one engine go to a worker together: LibreOffice pays its start-up once per batch.
BATCH = 12

Renderer = Callable[[list[tuple[str, int]]], list[list[EnginePage]]]


def _synth(jobs: list[tuple[str, int]]) -> list[list[EnginePage]]:
    out = []
    for label, seed in jobs:
        page = synth_render(label, seed, SYNTH_CLEAN_FRACTION)
        words = [Word(w["text"], tuple(w["box"])) for w in page.record.pop("words")]
        record = {"engine": "synth", "template": page.record["family"], **page.record}
        record.update(text_source="models.data.content (Faker, word lists)", licence="MIT")
        out.append([EnginePage(page.image, words, record)])
    return out


def _html(jobs: list[tuple[str, int]]) -> list[list[EnginePage]]:
    return [[page] for page in html.render_batch(jobs)]


ENGINES: dict[str, tuple[Renderer, tuple[str, ...]]] = {
    "synth": (_synth, CLASSES),
    "html": (_html, html.labels()),
    "office": (office.render_batch, office.labels()),
    "sheets": (sheets.render_batch, sheets.labels()),
}


@dataclass(frozen=True)
class Job:
    split: str
    label: str
    index: int
    seed: int
    engine: str

    @property
    def page_id(self) -> str:
        return f"{self.label}-{self.index:06d}"


def choose_engine(label: str, seed: int) -> str:
    engines = [name for name, (_, labels) in ENGINES.items() if label in labels]
    weights = [ENGINE_SHARE[name] for name in engines]
    return random.Random(f"engine:{seed}").choices(engines, weights)[0]


def plan(
    per_class: int,
    seed: int,
    ratios: tuple[float, float, float],
    classes: tuple[str, ...] = CLASSES,
) -> list[Job]:
    jobs = []
    sizes = split_sizes(per_class, ratios)
    for label in classes:
        splits = [split for split in SPLITS for _ in range(sizes[split])]
        for index, split in enumerate(splits):
            page_seed = random.Random(f"{seed}:{label}:{index}").getrandbits(31)
            jobs.append(Job(split, label, index, page_seed, choose_engine(label, page_seed)))
    return jobs


def batches(jobs: list[Job], out: Path) -> Iterator[list[Job]]:
    """Jobs still to do, grouped by engine into batches of at most BATCH."""
    todo: dict[str, list[Job]] = {}
    for job in jobs:
        if not (out / job.split / job.label / f"{job.page_id}.json").exists():
            todo.setdefault(job.engine, []).append(job)
    for engine_jobs in todo.values():
        for i in range(0, len(engine_jobs), BATCH):
            yield engine_jobs[i : i + BATCH]


def run_batch(args: tuple[Path, list[Job]]) -> list[tuple[str, str, int]]:
    """Render, scan and write one batch; returns (split, label, pages written) per job."""
    out, jobs = args
    renderer = ENGINES[jobs[0].engine][0]
    rendered = renderer([(job.label, job.seed) for job in jobs])
    done = []
    for job, pages in zip(jobs, rendered, strict=True):
        for number, page in enumerate(pages, 1):
            suffix = "" if number == 1 else f"-p{number}"
            write(out, job, page, suffix)
        done.append((job.split, job.label, len(pages)))
    return done


def write(out: Path, job: Job, page: EnginePage, suffix: str) -> None:
    rng = np.random.default_rng(job.seed + len(suffix))
    if job.engine != "synth" and rng.random() < SCANNED_SHARE:
        page = scan.scan(page, rng)
    folder = out / job.split / job.label
    folder.mkdir(parents=True, exist_ok=True)
    page_id = job.page_id + suffix
    page.image.save(folder / f"{page_id}.png", compress_level=3)
    record: dict[str, Any] = {"id": page_id, "split": job.split, "label": job.label}
    record.update(page.record, corpus_version=CORPUS_VERSION, words=page.words_json())
    (folder / f"{page_id}.json").write_text(json.dumps(record, ensure_ascii=False))


def generate(
    out: Path,
    per_class: int,
    seed: int,
    workers: int = 1,
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1),
    classes: tuple[str, ...] = CLASSES,
    progress: bool = True,
    splits: tuple[str, ...] = SPLITS,
) -> dict[str, Any]:
    """Write (or finish writing) the corpus; returns its summary, also in DIR/corpus.json.
    splits: render only these (a page depends only on its seed, class and index, so one split
    alone is the same pages as in the whole corpus)."""
    jobs = [job for job in plan(per_class, seed, ratios, classes) if job.split in splits]
    work = [(out, batch) for batch in batches(jobs, out)]
    start = time.perf_counter()
    pages: Counter[tuple[str, str]] = Counter()
    bar = tqdm(total=sum(len(b) for _, b in work), unit="doc", desc="corpus", disable=not progress)
    with contextlib.ExitStack() as stack:
        results: Iterator[list[tuple[str, str, int]]] = map(run_batch, work)
        if workers > 1:
            pool = stack.enter_context(mp.get_context("fork").Pool(workers))
            results = pool.imap_unordered(run_batch, work)
        for done in results:
            for split, label, n in done:
                pages[(split, label)] += n
            bar.update(len(done))
    bar.close()
    seconds = time.perf_counter() - start
    summary = {
        "corpus_version": CORPUS_VERSION,
        "seed": seed,
        "per_class": per_class,
        "ratios": list(ratios),
        "engine_share": ENGINE_SHARE,
        "scanned_share": SCANNED_SHARE,
        "classes": list(classes),
        "splits": list(splits),
        "documents": len(jobs),
        "engines": dict(Counter(job.engine for job in jobs)),
        "rendered_now": sum(len(b) for _, b in work),
        "pages_written_now": sum(pages.values()),
        "seconds": round(seconds, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "corpus.json").write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.data.corpus", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-class", type=int, required=True, help="documents per class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--classes", nargs="+", choices=CLASSES, default=list(CLASSES))
    parser.add_argument(
        "--ratios", nargs=3, type=float, default=[0.8, 0.1, 0.1], help="train, val, test shares"
    )
    parser.add_argument(
        "--splits", nargs="+", choices=SPLITS, default=list(SPLITS), help="render only these"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    summary = generate(
        args.out,
        args.per_class,
        args.seed,
        max(1, args.workers),
        (args.ratios[0], args.ratios[1], args.ratios[2]),
        classes=tuple(args.classes),
        splits=tuple(args.splits),
    )
    log.info(json.dumps(summary))


if __name__ == "__main__":
    main()
