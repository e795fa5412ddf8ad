"""OCR over page images, and over whole corpus splits.

    python -m models.data.ocr --data DIR/train [--engine tesseract] [--workers 2] [--band 0.35]

stores <id>.ocr-<engine>.json beside each page (words with pixel boxes and confidences), so that
training can mix ground-truth text with real OCR noise. With --band F it stores instead
<id>.ocr-<engine>-band<F>.json: the page OCR'd as the cascade reads it (models.bands), its top band
and then the rest in two calls, so that operating points are searched on the words the service
really sees (a crop OCR'd alone differs from the same rows of a whole-page OCR).
Resumable: pages already done are skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image
from tqdm import tqdm

from models.bands import PAGE_LONG_SIDE, band_cut, crop_rows

log = logging.getLogger("docexit.ocr")
_PUNCT = re.compile(r"[^\w]+")


@dataclass
class OcrWord:
    text: str
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the input image's pixels
    conf: float  # engine confidence in [0, 1]


class OcrEngine(Protocol):
    name: str

    def recognize(self, image: Image.Image) -> list[OcrWord]: ...


class OcrUnavailableError(RuntimeError):
    """The engine's program or package is not installed."""


class TesseractEngine:
    """Tesseract through pytesseract. Pages are upscaled first: at RVL-CDIP's ~90 dpi, body text
    is 6-8 px high, below what Tesseract's LSTM reads reliably."""

    name = "tesseract"

    def __init__(
        self, lang: str = "eng", target_long_side: int = 2000, psm: int = 3, timeout_s: float = 60.0
    ) -> None:
        import pytesseract

        try:
            pytesseract.get_tesseract_version()
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrUnavailableError("tesseract is not installed; run `make sysdeps`") from exc
        self._tess = pytesseract
        self.lang, self.target, self.psm, self.timeout = lang, target_long_side, psm, timeout_s

    def recognize(self, image: Image.Image) -> list[OcrWord]:
        gray = image.convert("L")
        # A band of a page (models.bands.crop_rows) is scaled as its whole page would be.
        long_side = int(image.info.get(PAGE_LONG_SIDE, max(gray.size)))
        scale = max(1.0, self.target / long_side)
        if scale > 1.0:
            gray = gray.resize(
                (round(gray.width * scale), round(gray.height * scale)), Image.Resampling.BICUBIC
            )
        data = self._tess.image_to_data(
            gray,
            lang=self.lang,
            config=f"--psm {self.psm}",
            output_type=self._tess.Output.DICT,
            timeout=self.timeout,
        )
        words = []
        for text, conf, x, y, w, h in zip(
            data["text"],
            data["conf"],
            data["left"],
            data["top"],
            data["width"],
            data["height"],
            strict=True,
        ):
            if text.strip() and float(conf) >= 0:
                box = (
                    int(x / scale),
                    int(y / scale),
                    int((x + w) / scale) + 1,
                    int((y + h) / scale) + 1,
                )
                words.append(OcrWord(text.strip(), box, round(float(conf) / 100.0, 3)))
        return words


ENGINES = {"tesseract": TesseractEngine}


def make_engine(name: str) -> OcrEngine:
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r}; choose one of {sorted(ENGINES)}")
    engine: OcrEngine = ENGINES[name]()
    return engine


def normalise(text: str) -> str:
    return _PUNCT.sub("", text).lower()


def word_recall(truth: Sequence[tuple[str, Sequence[int]]], found: Iterable[OcrWord]) -> float:
    """Share of ground-truth words that OCR found: same text (case and punctuation aside) with
    overlapping boxes. Words that are punctuation alone are not counted."""
    pool: dict[str, list[tuple[int, int, int, int]]] = {}
    for w in found:
        pool.setdefault(normalise(w.text), []).append(w.box)
    total = hit = 0
    for text, box in truth:
        key = normalise(text)
        if not key:
            continue
        total += 1
        for i, b in enumerate(pool.get(key, [])):
            if b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3]:
                hit += 1
                del pool[key][i]
                break
    return hit / total if total else 1.0


def ocr_path(image_path: Path, engine: str, band: float | None = None) -> Path:
    suffix = "" if band is None else f"-band{round(100 * band):02d}"
    return image_path.with_name(f"{image_path.stem}.ocr-{engine}{suffix}.json")


_ENGINE: OcrEngine | None = None


def _ocr_bands(image_path: Path, engine: OcrEngine, band: float) -> tuple[float, float]:
    image = Image.open(image_path)
    cut = band_cut(image, band)
    out: dict[str, object] = {"engine": engine.name, "band": band, "cut": cut}
    start = time.perf_counter()
    for part, (top, bottom) in (("top", (0, cut)), ("rest", (cut, image.height))):
        words = engine.recognize(crop_rows(image, top, bottom))
        moved = [
            OcrWord(w.text, (w.box[0], w.box[1] + top, w.box[2], w.box[3] + top), w.conf)
            for w in words
        ]
        out[part] = [asdict(w) for w in moved]
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
        "--band", type=float, help="OCR the top band (this share of the height) and the rest apart"
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
