"""OCR in bands: the top of a page first, the whole page only when no exit accepts on the top's
words.

OCR is most of a request's time on CPU (about 1 s a page with Tesseract, against tens of
milliseconds for the whole encoder), and the model reads at most `max_text_tokens` tokens, which
on a dense page all sit in its upper part. So the cascade OCRs a top band, consults the exits on
its words, and pays for the whole page only when they are not confident (reading it whole, not
the rest alone, so that the answer then is full depth's). Bands are cut on a blank pixel row
near the asked height, so that no text line is split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

Words = tuple[list[str], Sequence[Sequence[float]]]  # texts, pixel boxes (x0, y0, x1, y1)
OcrFn = Callable[[Image.Image], Words]


def band_cut(image: Image.Image, fraction: float, search: float = 0.06) -> int:
    """A pixel row near fraction * height where the page is blankest (within +-search of the
    height), so that the cut falls between text lines. 0 < fraction < 1."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"band fraction must be in (0, 1), not {fraction}")
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    h = gray.shape[0]
    ink = (255.0 - gray).mean(axis=1)  # [H] darkness per row
    target = int(round(fraction * h))
    lo, hi = max(1, target - int(search * h)), min(h - 1, target + int(search * h) + 1)
    if hi <= lo:
        return max(1, min(h - 1, target))
    rows = np.arange(lo, hi)
    # Blankest row first; among equals, the one nearest the asked height.
    best = min(rows, key=lambda r: (round(float(ink[r]), 1), abs(int(r) - target)))
    return int(best)


# Set on a band's crop: the long side of the page it was cut from. An OCR engine that scales its
# input to a target size (models.ocr.TesseractEngine) scales a band as it would the whole
# page; scaled by its own long side, a band would be upscaled a third more, cost half a page's
# OCR for a third of its rows, and read differently from the same rows of the page.
PAGE_LONG_SIDE = "docexit.page_long_side"


def crop_rows(image: Image.Image, top: int, bottom: int) -> Image.Image:
    """Rows [top, bottom) of a page, marked with the page's long side (PAGE_LONG_SIDE)."""
    crop = image.crop((0, top, image.width, bottom))
    crop.info[PAGE_LONG_SIDE] = image.info.get(PAGE_LONG_SIDE, max(image.size))
    return crop


def ocr_band(ocr: OcrFn, image: Image.Image, top: int, bottom: int) -> Words:
    """OCR rows [top, bottom) of a page; boxes come back in page coordinates."""
    texts, boxes = ocr(crop_rows(image, top, bottom))
    moved = [(b[0], b[1] + top, b[2], b[3] + top) for b in boxes]
    return list(texts), list(moved)


def words_above(words: Words, cut: float) -> Words:
    """The words whose top edge is above row `cut` (what a top-band OCR would have found)."""
    kept = [(t, b) for t, b in zip(words[0], words[1], strict=True) if b[1] < cut]
    return [t for t, _ in kept], [b for _, b in kept]
