"""Sheets engine (openpyxl -> Gnumeric ssconvert or LibreOffice Calc -> PDF): each class renders
through each converter, and the text-layer words agree with the page image.

Checks as in test_engine_office (word boxes with a letter or digit hold dark pixels), and
Tesseract recall per converter over its pages >= OCR_ALL_MIN, every page >= OCR_PAGE_MIN. The
floors are lower than for Word pages: with gridlines printed, Tesseract at this resolution
(~90 dpi) loses digits that touch cell borders (recall 0.14-0.99 over seeds 0-5). A text layer
that does not match its page reads near 0, far under either floor; the ink check above is the
per-word one."""

from __future__ import annotations

import shutil

import pytest

from models.data.engines import sheets
from models.data.engines.base import EnginePage
from tests.data.test_engine_office import RECORD_KEYS, ocr_recall, unlinked_words

SEED = 5
OCR_PAGE_MIN = 0.3
OCR_ALL_MIN = 0.7
BINARIES = {"gnumeric": ("ssconvert",), "calc": ("soffice", "libreoffice")}


def _installed(converter: str) -> bool:
    return any(shutil.which(b) for b in BINARIES[converter])


@pytest.fixture(scope="module", params=sheets.CONVERTERS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, dict[str, list[EnginePage]]]:
    converter = request.param
    if not _installed(converter):
        pytest.skip(f"{converter} converter not installed: `make sysdeps-corpus`")
    labels = sheets.labels()
    pages = sheets.render_batch([(label, SEED) for label in labels], converter=converter)
    return converter, dict(zip(labels, pages, strict=True))


def test_every_class_renders(rendered: tuple[str, dict[str, list[EnginePage]]]) -> None:
    converter, by_label = rendered
    for label, pages in by_label.items():
        assert len(pages) == 1, (converter, label)
        page = pages[0]
        assert RECORD_KEYS | {"converter"} <= page.record.keys()
        assert page.record["converter"] == converter and page.record["label"] == label
        assert max(page.image.size) == 1000 and len(page.words) >= 15


def test_word_boxes_sit_on_ink(rendered: tuple[str, dict[str, list[EnginePage]]]) -> None:
    converter, by_label = rendered
    for label, pages in by_label.items():
        assert unlinked_words(pages[0]) == [], (converter, label)


def test_tesseract_reads_the_words(rendered: tuple[str, dict[str, list[EnginePage]]]) -> None:
    converter, by_label = rendered
    hits = total = 0
    for label, pages in by_label.items():
        hit, n = ocr_recall(pages[0])
        assert hit >= OCR_PAGE_MIN * n, (converter, label, hit, n)
        hits, total = hits + hit, total + n
    assert hits >= OCR_ALL_MIN * total, (converter, hits, total)
