"""Scan looks keep every word on its pixels, repeat exactly, and leave no files behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from models.data import scan
from models.data.engines.base import EnginePage, Word

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def born_digital_page() -> EnginePage:
    image = Image.new("L", (700, 900), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 22)
    words = []
    for row in range(12):
        x = 60
        for text in ("Quarterly", "report", f"line{row}"):
            left, top, right, bottom = draw.textbbox((x, 60 + 60 * row), text, font=font)
            draw.text((x, 60 + 60 * row), text, font=font, fill=0)
            words.append(Word(text, (left, top, right, bottom)))
            x = right + 14
    return EnginePage(image, words, {"engine": "test"})


@pytest.mark.parametrize("style", sorted(scan.STYLES))
def test_every_word_stays_on_its_ink(
    style: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    page = born_digital_page()
    out = scan.scan(page, np.random.default_rng(7), style)
    assert out.record["scan"] == style and out.record["engine"] == "test"
    assert out.image.mode == "L" and len(out.words) >= len(page.words) * 0.8
    pixels = np.asarray(out.image, dtype=np.float32)
    paper = np.median(pixels)
    for word in out.words:
        x0, y0, x1, y1 = word.box
        crop = pixels[y0:y1, x0:x1]
        assert crop.min() < paper - 100, f"{style}: no ink under {word}"
    assert not np.array_equal(pixels, np.asarray(page.image)), "the scan changed nothing"
    assert list(tmp_path.iterdir()) == []  # augraphy's cache went to a scratch folder


def test_the_same_seed_gives_the_same_scan() -> None:
    page = born_digital_page()
    a = scan.scan(page, np.random.default_rng(3))
    b = scan.scan(page, np.random.default_rng(3))
    assert a.record == b.record
    assert a.image.tobytes() == b.image.tobytes()
