"""The OCR engines the service can run (tesseract, rapidocr, paddleocr), each for real on one
rendered page: the words are read, boxes are in the page's pixels where the text was drawn,
confidences are in [0, 1], and a blank page reads as nothing.

An engine that is not installed is skipped, unless DOCEXIT_REQUIRE_OCR_ENGINES (comma-separated)
names it: then it fails. paddleocr also needs PP-OCR model folders (DOCEXIT_PADDLE_DET_DIR,
DOCEXIT_PADDLE_REC_DIR); `make test-paddle` installs it, builds them and requires both engines."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from models.ocr import OcrEngine, OcrUnavailableError, OcrWord, normalise, word_recall
from service.ocr_engines import ENGINES, _axis_box, _split_line, make_engine

NAMES = ["tesseract", "rapidocr", "paddleocr"]
REQUIRED = {
    n.strip() for n in os.environ.get("DOCEXIT_REQUIRE_OCR_ENGINES", "").split(",") if n.strip()
}
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SIZE = (770, 1000)
LINES = [
    "Invoice number 4821 dated 12 March 2024",
    "Please remit payment to Northwind Traders",
    "Total amount due within thirty days",
    "Questions about this statement call support",
]


@dataclass
class Page:
    image: Image.Image
    lines: list[tuple[int, int, int, int]]  # each drawn line's box
    words: list[tuple[str, tuple[int, int, int, int]]]  # each drawn word and its box


def _render() -> Page:
    if not FONT.exists():
        pytest.skip(f"{FONT} is missing (make sysdeps installs fonts-dejavu-core)")
    font = ImageFont.truetype(str(FONT), 28)
    image = Image.new("RGB", SIZE, "white")
    draw = ImageDraw.Draw(image)
    lines, words = [], []
    for i, line in enumerate(LINES):
        x, y = 60, 140 + 110 * i
        draw.text((x, y), line, font=font, fill="black")
        box = draw.textbbox((x, y), line, font=font)
        lines.append((int(box[0]), int(box[1]), int(box[2]), int(box[3])))
        at = x
        for word in line.split():
            b = draw.textbbox((at, y), word, font=font)
            words.append((word, (int(b[0]), int(b[1]), int(b[2]), int(b[3]))))
            at += int(font.getlength(word + " "))
    return Page(image, lines, words)


@pytest.fixture(scope="module")
def page() -> Page:
    return _render()


@pytest.fixture(scope="module", params=NAMES)
def engine(request: pytest.FixtureRequest) -> OcrEngine:
    """Each engine built once for the module (model loading is the slow part)."""
    name: str = request.param
    try:
        return make_engine(
            name, os.environ.get("DOCEXIT_PADDLE_DET_DIR"), os.environ.get("DOCEXIT_PADDLE_REC_DIR")
        )
    except OcrUnavailableError as exc:
        if name in REQUIRED:
            hint = "; `make test-paddle` installs it and builds them" if name == "paddleocr" else ""
            pytest.fail(f"{name} is required (DOCEXIT_REQUIRE_OCR_ENGINES) but: {exc}{hint}")
        pytest.skip(f"{name} unavailable: {exc}")


@pytest.fixture(scope="module")
def found(engine: OcrEngine, page: Page) -> list[OcrWord]:
    return engine.recognize(page.image)


def test_required_engines_are_known() -> None:
    assert REQUIRED <= set(ENGINES), f"DOCEXIT_REQUIRE_OCR_ENGINES names {REQUIRED - set(ENGINES)}"


def test_engine_reads_the_words(engine: OcrEngine, page: Page, found: list[OcrWord]) -> None:
    recall = word_recall(page.words, found)
    texts = [w.text for w in found]
    assert recall >= 0.8, f"{engine.name} found {recall:.0%} of the words: {texts}"
    truth = {normalise(t) for t, _ in page.words}
    extra = [t for t in texts if normalise(t) and normalise(t) not in truth]
    assert len(extra) <= 0.2 * len(page.words), f"{engine.name} misread {extra}"


def test_boxes_lie_on_the_drawn_lines(engine: OcrEngine, page: Page, found: list[OcrWord]) -> None:
    assert found, f"{engine.name} found no words"
    width, height = page.image.size
    for w in found:
        x0, y0, x1, y1 = w.box
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, f"{w} leaves the page"
        assert 0.0 <= w.conf <= 1.0, f"{w} has a confidence outside [0, 1]"
        # Near where the text was drawn: a found word overlaps exactly one drawn line, and its
        # vertical centre lies within that line's rows (a few pixels of slack).
        on = [b for b in page.lines if x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1]
        assert len(on) == 1, f"{engine.name}: {w} overlaps {len(on)} drawn lines"
        assert on[0][1] - 6 <= (y0 + y1) / 2 <= on[0][3] + 6, f"{engine.name}: {w} is off its line"


def test_blank_page_reads_as_nothing(engine: OcrEngine) -> None:
    assert engine.recognize(Image.new("RGB", SIZE, "white")) == []


def test_line_boxes_are_shared_out_inside_the_page() -> None:
    # A detector's quadrilateral may reach past the page edge; the box is clipped to it.
    box = _axis_box([(-3.0, 5.0), (120.4, 4.0), (121.0, 30.2), (-2.0, 31.0)], (100, 50))
    assert box == (0, 4, 100, 32)
    words = _split_line("due 12 March", (10, 20, 130, 40), 0.9)
    assert [w.text for w in words] == ["due", "12", "March"]
    assert all(10 <= w.box[0] < w.box[2] <= 130 and w.box[1:4:2] == (20, 40) for w in words)
    assert [w.box[0] for w in words] == sorted(w.box[0] for w in words)
