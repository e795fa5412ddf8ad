"""OCR over page images, and over whole corpus splits.

    python -m models.data.ocr --data DIR/train [--engine tesseract] [--workers 2] [--band 0.35]

stores <id>.ocr-<engine>.json beside each page (words with pixel boxes and confidences), so that
training can mix ground-truth text with real OCR noise. With --band F it stores instead
<id>.ocr-<engine>-band<F>.json: the page's top band OCR'd alone, as the cascade's first OCR call
reads it (models.bands), so that operating points are searched on the words the service really
sees (a crop OCR'd alone differs from the same rows of a whole-page OCR). The cascade's second
call reads the whole page, which the plain file holds.
Resumable: pages already done are skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import time
from dataclasses import asdict
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from models.bands import band_cut, crop_rows
from models.ocr import ENGINES, OcrEngine, make_engine, word_recall

log = logging.getLogger("docexit.ocr")


def ocr_path(image_path: Path, engine: str, band: float | None = None) -> Path:
    suffix = "" if band is None else f"-band{round(100 * band):02d}"
    return image_path.with_name(f"{image_path.stem}.ocr-{engine}{suffix}.json")


_ENGINE: OcrEngine | None = None


def _ocr_bands(image_path: Path, engine: OcrEngine, band: float) -> tuple[float, float]:
    image = Image.open(image_path)
    cut = band_cut(image, band)
    out: dict[str, object] = {"engine": engine.name, "band": band, "cut": cut}
    start = time.perf_counter()
    # Rows [0, cut): boxes come back in page coordinates as they are.
    out["top"] = [asdict(w) for w in engine.recognize(crop_rows(image, 0, cut))]
    seconds = time.perf_counter() - start
    out["seconds"] = round(seconds, 3)
    ocr_path(image_path, engine.name, band).write_text(json.dumps(out, ensure_ascii=False))
    return seconds, float("nan")


def _ocr_one(args: tuple[str, str, float | None]) -> tuple[float, float]:
    global _ENGINE
    image_path, name, band = Path(args[0]), args[1], args[2]
    if _ENGINE is None or _ENGINE.name != name:
        _ENGINE = make_engine(name)
    if band is not None:
        return _ocr_bands(image_path, _ENGINE, band)
    start = time.perf_counter()
    words = _ENGINE.recognize(Image.open(image_path))
    seconds = time.perf_counter() - start
    out = {"engine": name, "seconds": round(seconds, 3), "words": [asdict(w) for w in words]}
    ocr_path(image_path, name).write_text(json.dumps(out, ensure_ascii=False))
    truth_file = image_path.with_suffix(".json")
    recall = float("nan")
    if truth_file.exists():
        truth = json.loads(truth_file.read_text())["words"]
        recall = word_recall([(w["text"], w["box"]) for w in truth], words)
    return seconds, recall


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.data.ocr", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, required=True, help="a split folder of class folders")
    parser.add_argument("--engine", default="tesseract", choices=sorted(ENGINES))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0, help="OCR at most this many pages")
    parser.add_argument(
        "--per-class", type=int, default=0, help="only the first N pages of each class folder"
    )
    parser.add_argument("--force", action="store_true", help="redo pages that already have OCR")
    parser.add_argument(
        "--band", type=float, help="OCR the top band (this share of the height) alone"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_engine(args.engine)  # fail early with a clear message when the engine is missing
    images = sorted(p for p in args.data.rglob("*.png"))
    if args.per_class:
        by_class: dict[Path, list[Path]] = {}
        for p in images:
            by_class.setdefault(p.parent, []).append(p)
        images = [p for pages in by_class.values() for p in pages[: args.per_class]]
    todo = [p for p in images if args.force or not ocr_path(p, args.engine, args.band).exists()]
    if args.limit:
        todo = todo[: args.limit]
    jobs = [(str(p), args.engine, args.band) for p in todo]
    start = time.perf_counter()
    results = []
    with mp.get_context("fork").Pool(max(1, args.workers)) as pool:
        for r in tqdm(
            pool.imap_unordered(_ocr_one, jobs), total=len(jobs), unit="page", desc="ocr"
        ):
            results.append(r)
    recalls = [r for _, r in results if r == r]
    log.info(
        "ocr: %d pages (%d already done) in %.1f s, %.2f s/page%s",
        len(results),
        len(images) - len(todo),
        time.perf_counter() - start,
        sum(s for s, _ in results) / max(1, len(results)),
        f", mean word recall {sum(recalls) / len(recalls):.3f}" if recalls else "",
    )


if __name__ == "__main__":
    main()
