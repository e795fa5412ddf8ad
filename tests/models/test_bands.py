from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from models.bands import Words, band_cut, ocr_band, words_above


def _lines_page(rows: list[tuple[int, int]]) -> Image.Image:
    """A white 200 x 300 page with black text-line bars at the given (top, bottom) rows."""
    page = Image.new("L", (200, 300), 255)
    draw = ImageDraw.Draw(page)
    for top, bottom in rows:
        draw.rectangle((10, top, 190, bottom), fill=0)
    return page


def test_the_cut_falls_between_text_lines_not_through_one() -> None:
    lines = [(90 + 14 * i, 100 + 14 * i) for i in range(6)]  # a gap of 4 px after each line
    page = _lines_page(lines)
    cut = band_cut(page, 0.35)  # asked for row 105, which is inside a line
    assert abs(cut - 105) <= 0.06 * 300 + 1
    assert not any(top <= cut <= bottom for top, bottom in lines)


def test_a_blank_page_is_cut_at_the_asked_height() -> None:
    assert band_cut(Image.new("L", (50, 100), 255), 0.4) == 40


def test_band_fraction_must_be_inside_the_page() -> None:
    with pytest.raises(ValueError, match="fraction"):
        band_cut(Image.new("L", (50, 100), 255), 1.0)


def test_band_ocr_boxes_come_back_in_page_coordinates() -> None:
    seen: list[tuple[int, int]] = []

    def ocr(image: Image.Image) -> Words:
        seen.append(image.size)
        return ["a"], [(3, 4, 9, 12)]

    texts, boxes = ocr_band(ocr, Image.new("L", (50, 100), 255), 60, 100)
    assert seen == [(50, 40)] and texts == ["a"] and list(boxes[0]) == [3, 64, 9, 72]


def test_words_above() -> None:
    words: Words = (["top", "low"], [(0, 5, 9, 9), (0, 50, 9, 59)])
    assert words_above(words, 20) == (["top"], [(0, 5, 9, 9)])
    assert words_above(words, 5) == ([], [])
