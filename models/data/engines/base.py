"""What every engine returns: a page image, its words with pixel boxes, and a manifest record.

Words come from the PDF text layer: pypdfium2 gives one box per character in PDF points (origin
bottom-left); characters are joined into words at whitespace and at jumps between lines, and
boxes are scaled to the rasterised page (origin top-left), long side LONG_SIDE pixels like the
generator's pages and RVL-CDIP's scans."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PIL import Image

LONG_SIDE = 1000
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in page pixels, y downwards


@dataclass
class Word:
    text: str
    box: Box


@dataclass
class EnginePage:
    """One rendered page. record: what the corpus manifest keeps of it (engine, template, seed,
    text source and licence, label), besides the words."""

    image: Image.Image  # grayscale ("L"), long side LONG_SIDE
    words: list[Word]
    record: dict[str, Any] = field(default_factory=dict)

    def words_json(self) -> list[dict[str, Any]]:
        """The words as the corpus' <id>.json stores them (models.dataset reads text and box)."""
        return [
            {"text": w.text, "box": list(w.box), "line": -1, "kind": "print"} for w in self.words
        ]


def pdf_pages(pdf: bytes | Path, long_side: int = LONG_SIDE) -> list[EnginePage]:
    """Every page of a PDF as a grayscale image (long side long_side) with its text-layer words."""
    doc = pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    try:
        return [_page(doc[i], long_side) for i in range(len(doc))]
    finally:
        doc.close()


def _page(page: pdfium.PdfPage, long_side: int) -> EnginePage:
    width, height = page.get_size()  # points
    scale = long_side / max(width, height)
    image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
    text = page.get_textpage()
    try:
        words = _words(text, height, scale, image.size)
    finally:
        text.close()
        page.close()
    return EnginePage(image, words)


def _words(
    text: pdfium.PdfTextPage, height: float, scale: float, size: tuple[int, int]
) -> list[Word]:
    """Join the text layer's characters into words with pixel boxes: at the text layer's
    whitespace, and where _continues says a character starts something new. A word's box is
    the union of its glyphs' tight boxes (where the ink is); whether a character continues a
    word is judged on loose boxes (the font's advance and ascent), whose gaps inside a word
    are near zero whatever the glyph shapes."""
    words: list[Word] = []
    chars: list[str] = []
    ink = [0.0, 0.0, 0.0, 0.0]  # left, bottom, right, top in points: the union of tight boxes
    span = [0.0, 0.0, 0.0, 0.0]  # the same for loose boxes

    def flush() -> None:
        if chars:
            x0, y0 = ink[0] * scale, (height - ink[3]) * scale
            x1, y1 = ink[2] * scale, (height - ink[1]) * scale
            clipped = (
                max(0, int(x0)),
                max(0, int(y0)),
                min(size[0], int(round(x1))),
                min(size[1], int(round(y1))),
            )
            if clipped[2] > clipped[0] and clipped[3] > clipped[1]:
                words.append(Word("".join(chars), clipped))
        chars.clear()

    for i in range(text.count_chars()):
        char = text.get_text_range(i, 1)
        if not char or char.isspace() or char == "\ufffe":
            flush()
            continue
        tight = text.get_charbox(i)
        loose = text.get_charbox(i, loose=True)
        if chars and not _continues(span, loose):
            flush()
        for box, new in ((ink, tight), (span, loose)):
            if not chars:
                box[:] = new
            else:
                box[:] = [
                    min(box[0], new[0]),
                    min(box[1], new[1]),
                    max(box[2], new[2]),
                    max(box[3], new[3]),
                ]
        chars.append(char)
    flush()
    return words


def _continues(word: list[float], char: tuple[float, float, float, float]) -> bool:
    """Does the character's loose box (left, bottom, right, top) carry on the word's? It must
    share the word's line and start at its right edge: a little overlap is normal (italics,
    kerning), a gap of a fifth of the line height is a space the text layer left out (table
    cells side by side), and a jump back is a new line or column."""
    left, bottom, _, top = char
    height = max(word[3] - word[1], top - bottom, 1e-3)
    same_line = bottom < word[3] and top > word[1]
    gap = left - word[2]
    return same_line and -0.5 * height <= gap <= 0.2 * height
