"""Whole documents measured live: the multi-page documents of the real validation folder
(data/realval, pages in their documents' order) sent through the service's own document reader
(service.document) on the shipped checkpoint, with real Tesseract.

1. every page at the default page policy (the pool never stops): each page's answer and its own
   time, recorded (reports/documents/pages.json; a later run reads it back);
2. the pool fitted on those answers (models.document_fit), cross-validated over documents, and
   for each stopping threshold: accuracy, pages read, and the time of the pages read against
   every page's (the same live page timings);
3. with the fitted pool, each document read live as the service reads it by default; the pages
   it reads must be those the replay of step 1's answers says (the fit's own arithmetic).

Writes reports/documents/results.json and, with --write-card, the pool into the card.

    python -m tools.document_eval [--limit N] [--write-card]
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm import tqdm

from models.card import Card
from models.document import DocumentPool
from models.document_fit import (
    THRESHOLDS,
    AnsweredDocument,
    cross_validate,
    fitted,
    measure,
    simulate,
)
from service.config_store import RuntimeConfig
from service.deadline import Deadline
from service.document import DocumentRun, PageSpan, read_document
from service.engine import Engine
from service.routes.admitted import choose
from service.routes.document import page_seconds
from service.settings import Settings

log = logging.getLogger("docexit.tools.document_eval")
REALVAL = Path("data/realval")
NEVER_STOP = DocumentPool(threshold=2.0)
FOLDS = 4  # cross-validation over documents


def documents(folder: Path) -> list[tuple[str, str, list[Path]]]:
    """(name, class, page files in order) of every document with two pages or more."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in json.loads((folder / "manifest.json").read_text()):
        grouped[(entry["package"], entry["path"])].append(entry)
    out = []
    for entries in grouped.values():
        if len(entries) < 2:
            continue
        entries.sort(key=lambda e: e["page"])
        pages = [folder / e["class"] / f"{e['id']}.png" for e in entries]
        out.append((entries[0]["id"].rsplit("-p", 1)[0], entries[0]["class"], pages))
    return sorted(out)


def tiff(pages: list[Path]) -> bytes:
    """The document as one multi-frame TIFF (lossless), as a scanner's driver would send it."""
    images = [Image.open(p).convert("L") for p in pages]
    buf = io.BytesIO()
    images[0].save(buf, "TIFF", save_all=True, append_images=images[1:], compression="tiff_deflate")
    return buf.getvalue()


def run_one(
    engine: Engine, data: bytes, full_depth: bool, pool: DocumentPool | None
) -> tuple[DocumentRun, float]:
    choice, _ = choose(engine, engine.settings, RuntimeConfig(), None, None, full_depth)
    start = time.perf_counter()
    run = read_document(engine, data, PageSpan(0, None), choice, Deadline(None), start, pool=pool)
    return run, time.perf_counter() - start


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    n = len(rows)
    return {
        "accuracy": round(sum(r["correct"] for r in rows) / n, 4),
        "mean_pages_read": round(sum(r["pages_read"] for r in rows) / n, 3),
        "seconds": round(sum(r["seconds"] for r in rows), 2),
        "replay_agrees": sum(r["pages_read"] == r["replayed_pages_read"] for r in rows),
    }


def record(run: DocumentRun, seconds: float, label: int) -> dict[str, Any]:
    return {
        "prediction": run.reading.prediction,
        "correct": run.reading.prediction == label,
        "pages_read": len(run.reading.read),
        "stopped": run.reading.stopped,
        "seconds": round(seconds, 3),
        "exits": [r.outcome.exit for r in run.results],
    }


def record_pages(
    engine: Engine, docs: list[tuple[str, str, list[Path]]], data: dict[str, bytes], cache: Path
) -> list[dict[str, Any]]:
    """Every page of every document at the default page policy, live: each page's calibrated
    answer, exit and own seconds, kept in `cache` (the fit and the figures read them; a second
    run reads the cache instead of the service)."""
    if not cache.exists():
        kept = []
        for name, cls, _ in tqdm(docs, desc="every page, default policy"):
            run, seconds = run_one(engine, data[name], False, NEVER_STOP)
            kept.append({
                "document": name, "class": cls, "seconds": round(seconds, 4),
                "pages": [{"probs": list(r.outcome.answer.probs), "exit": r.outcome.exit,
                           "seconds": round(page_seconds(r), 4)} for r in run.results],
            })  # fmt: skip
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(kept) + "\n")
    return list(json.loads(cache.read_text()))


def tradeoffs(
    pool: DocumentPool, docs: list[AnsweredDocument], kept: list[dict[str, Any]]
) -> list[dict[str, float]]:
    """For each threshold: accuracy and pages read (on every document, and cross-validated),
    and the page time of the pages read against every page's (both measured live)."""
    every_s = sum(p["seconds"] for d in kept for p in d["pages"])
    out = []
    for tau in THRESHOLDS:
        at = pool.model_copy(update={"threshold": tau})
        read_s = sum(
            sum(p["seconds"] for p in d["pages"][: simulate(at, doc)[1]])
            for d, doc in zip(kept, docs, strict=True)
        )
        m, cv = measure(at, docs), cross_validate(docs, FOLDS, threshold=tau)
        out.append({
            "threshold": tau, "accuracy": round(m["accuracy"], 4),
            "mean_pages_read": round(m["mean_pages_read"], 3),
            "cv_accuracy": cv["accuracy"], "cv_mean_pages_read": cv["mean_pages_read"],
            "time_vs_every_page": round(read_s / every_s, 3),
        })  # fmt: skip
    return out


def read_live(
    engine: Engine, docs: list[tuple[str, str, list[Path]]], data: dict[str, bytes],
    answered: list[AnsweredDocument], pool: DocumentPool,
) -> list[dict[str, Any]]:  # fmt: skip
    """Each document read as the service reads it by default, with the fitted pool; the pages
    read must be those the fit's replay of the recorded answers says."""
    rows = []
    for (name, cls, _), doc in zip(tqdm(docs, desc="read live, default"), answered, strict=True):
        run, seconds = run_one(engine, data[name], False, pool)
        row = {"document": name, "class": cls, "pages": len(doc.pages),
               **record(run, seconds, doc.label)}  # fmt: skip
        row["replayed_pages_read"] = simulate(pool, doc)[1]
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=REALVAL)
    parser.add_argument("--out", type=Path, default=Path("reports/documents"))
    parser.add_argument("--limit", type=int, default=0, help="first N documents only (a smoke run)")
    parser.add_argument(
        "--write-card", action="store_true", help="store the fitted pool in the card"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    engine = Engine.load(settings)
    engine.warm_up(2)
    docs = documents(args.folder)[: args.limit or None]
    data = {name: tiff(pages) for name, _, pages in docs}
    kept = record_pages(engine, docs, data, args.out / "pages.json")
    answered = [
        AnsweredDocument(
            d["document"], engine.labels.index(d["class"]), [p["probs"] for p in d["pages"]]
        )
        for d in kept
    ]
    pool = fitted(answered, [f"{args.folder}: its {len(docs)} multi-page documents"], FOLDS)
    log.info("pool: %s", pool.model_dump(exclude={"metrics"}))
    table = tradeoffs(pool, answered, kept)
    rows = read_live(engine, docs, data, answered, pool)
    every_s = sum(d["seconds"] for d in kept)
    result = {
        "pool": pool.model_dump(),
        "documents": len(rows),
        "pages": sum(r["pages"] for r in rows),
        "live_default": summary(rows),
        "every_page_seconds": round(every_s, 2),
        "tradeoffs": table,
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    log.info("%s", json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=1))
    if args.write_card:
        folder = Path(settings.checkpoint)
        Card.read(folder).updated(document=pool).write(folder)
    engine.close()


if __name__ == "__main__":
    main()
