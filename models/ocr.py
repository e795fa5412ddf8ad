"""OCR engines for page images: the word type and engine protocol every engine (here and in
service.ocr_engines) follows, the Tesseract engine, and word recall against ground truth."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from models.bands import PAGE_LONG_SIDE

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
            release = pytesseract.get_tesseract_version()
        except pytesseract.TesseractNotFoundError as exc:
            raise OcrUnavailableError("tesseract is not installed; run `make sysdeps`") from exc
        self._tess = pytesseract
        self.lang, self.target, self.psm, self.timeout = lang, target_long_side, psm, timeout_s
        # What this engine reads a page as depends on all of these (the OCR cache keys on it).
        self.version = f"{release}-{lang}-psm{psm}-{target_long_side}"

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
