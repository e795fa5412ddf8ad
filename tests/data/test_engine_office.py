"""Office engine (python-docx -> LibreOffice -> PDF): every class renders in one batch, and the
text-layer words agree with the page image.

Checks, per page: every word box with a letter or digit holds dark pixels (< 160 of 255; tiny
punctuation such as "·" can round to a box of blank pixels, so it is left out); and, on a sample
of layouts, Tesseract reads back at least OCR_PAGE_MIN of the words (3+ characters, compared
lower-case without punctuation) and OCR_ALL_MIN over the sample. On clean engine output recall is
typically 0.9-1.0; the floors leave room for large display type and table cells that Tesseract
segments badly (file-folder labels fall to ~0.55)."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from models.data.engines import office
from models.data.engines.base import EnginePage

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None and shutil.which("libreoffice") is None,
    reason="LibreOffice (soffice) not installed: `make sysdeps-corpus`",
)

DARK = 160
OCR_PAGE_MIN = 0.5
OCR_ALL_MIN = 0.85
OCR_SAMPLE = ("letter", "invoice", "form", "resume", "news_article", "advertisement")
RECORD_KEYS = {"engine", "template", "seed", "label", "text_source", "licence", "page"}


def norm(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def unlinked_words(page: EnginePage) -> list[str]:
    """Words (with a letter or digit) whose box holds no dark pixel."""
    ink = np.asarray(page.image) < DARK
    return [
        w.text
        for w in page.words
        if norm(w.text) and not ink[w.box[1] : w.box[3] + 1, w.box[0] : w.box[2] + 1].any()
    ]


def ocr_recall(page: EnginePage) -> tuple[int, int]:
    """(text-layer words of 3+ characters that Tesseract also read, how many there are)."""
    import pytesseract

    read = {norm(t) for t in pytesseract.image_to_string(page.image).split()}
    wanted = [norm(w.text) for w in page.words if len(norm(w.text)) >= 3]
    return sum(w in read for w in wanted), len(wanted)


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[EnginePage]]:
    labels = office.labels()
    return dict(zip(labels, office.render_batch([(label, 5) for label in labels]), strict=True))


def test_every_class_renders(rendered: dict[str, list[EnginePage]]) -> None:
    for label, pages in rendered.items():
        assert 1 <= len(pages) <= office.MAX_PAGES.get(label, 1), label
        for page in pages:
            assert RECORD_KEYS <= page.record.keys(), label
            assert page.record["label"] == label and page.record["template"].startswith(label)
            assert page.record["text_source"] and page.record["licence"]
            assert max(page.image.size) == 1000 and page.image.mode == "L"
            assert len(page.words) >= 10, label


def test_word_boxes_sit_on_ink(rendered: dict[str, list[EnginePage]]) -> None:
    for label, pages in rendered.items():
        for page in pages:
            assert unlinked_words(page) == [], label


def test_tesseract_reads_the_words(rendered: dict[str, list[EnginePage]]) -> None:
    hits = total = 0
    for label in OCR_SAMPLE:
        page = rendered[label][0]
        hit, n = ocr_recall(page)
        assert hit >= OCR_PAGE_MIN * n, (label, hit, n)
        hits, total = hits + hit, total + n
    assert hits >= OCR_ALL_MIN * total, (hits, total)


def test_same_seed_same_document() -> None:
    first, _ = office.build("memo", 11)
    again, _ = office.build("memo", 11)
    text = ["\n".join(p.text for p in d.paragraphs) for d in (first, again)]
    assert text[0] == text[1]
