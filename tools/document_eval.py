"""Whole documents measured live: the multi-page documents of the real validation folder
(data/realval, pages in their documents' order) sent through the service's own document reader
(service.document) on the shipped checkpoint, with real Tesseract.

1. every page at the default page policy (the pool never stops): each page's answer, recorded;
2. the pool fitted on those answers (models.document_fit), cross-validated over documents;
3. with the fitted pool, each document read as the service reads it by default, and with
   pages=all and full_depth, in turn (the order rotates, so a slow spell of this shared machine
   slows both alike).

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
from models.document_fit import AnsweredDocument, fitted
from service.config_store import RuntimeConfig
from service.deadline import Deadline
from service.document import DocumentRun, PageSpan, read_document
from service.engine import Engine
from service.routes.admitted import choose
from service.settings import Settings

log = logging.getLogger("docexit.tools.document_eval")
REALVAL = Path("data/realval")
NEVER_STOP = DocumentPool(threshold=2.0)


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


def summary(rows: list[dict[str, Any]], key: str) -> dict[str, float]:
    n = len(rows)
    return {
        "accuracy": round(sum(r[key]["correct"] for r in rows) / n, 4),
        "mean_pages_read": round(sum(r[key]["pages_read"] for r in rows) / n, 3),
        "seconds": round(sum(r[key]["seconds"] for r in rows), 2),
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
    labels = engine.labels
    data = {name: tiff(pages) for name, _, pages in docs}

    answered: list[AnsweredDocument] = []
    rows: list[dict[str, Any]] = []
    for name, cls, _ in tqdm(docs, desc="every page, default policy"):
        run, seconds = run_one(engine, data[name], False, NEVER_STOP)
        pages = [list(r.outcome.answer.probs) for r in run.results]
        answered.append(AnsweredDocument(name, labels.index(cls), pages))
        rows.append({"document": name, "class": cls, "pages": len(pages),
                     "every_page": record(run, seconds, labels.index(cls))})  # fmt: skip
    pool = fitted(answered, [f"{args.folder} multi-page documents, {len(docs)}"])
    log.info("pool: %s", pool.model_dump(exclude={"metrics"}))

    for i, (name, cls, _) in enumerate(tqdm(docs, desc="default vs full depth")):
        order: tuple[bool, bool] = (False, True) if i % 2 == 0 else (True, False)
        for full in order:
            run, seconds = run_one(engine, data[name], full, None if full else pool)
            rows[i]["full_depth" if full else "default"] = record(run, seconds, labels.index(cls))
    result = {
        "pool": pool.model_dump(),
        "documents": len(rows),
        "pages": sum(r["pages"] for r in rows),
        "default": summary(rows, "default"),
        "every_page_default_policy": summary(rows, "every_page"),
        "full_depth_every_page": summary(rows, "full_depth"),
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
