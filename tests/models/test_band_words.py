"""Stored band OCR (`python -m models.data.ocr --band`): what the cascade's first OCR call, on the
page's top band, found, read back by the validation pages that the operating points are searched
on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from models.bands import band_cut
from models.data import ocr
from models.dataset import PageDataset, band_words
from models.inputs import encode_words

if shutil.which("tesseract") is None:
    pytest.skip("tesseract is not installed (make sysdeps)", allow_module_level=True)


@pytest.fixture
def pages(corpus: Path, tmp_path: Path) -> Path:
    """Two classes' val pages, copied so that OCR files land outside the shared corpus."""
    out = tmp_path / "val"
    for label in ("letter", "invoice"):
        shutil.copytree(corpus / "val" / label, out / label)
    return out


def test_band_ocr_is_stored_and_read_back_as_the_cascade_reads(pages: Path) -> None:
    ocr.main(["--data", str(pages), "--band", "0.35", "--per-class", "1"])
    stored = sorted(pages.glob("*/*.ocr-tesseract-band35.json"))
    assert len(stored) == 2
    png = stored[0].with_name(stored[0].name.split(".")[0] + ".png")
    data = json.loads(stored[0].read_text())
    assert data["cut"] == band_cut(Image.open(png), 0.35)
    top = band_words(png, 0.35)
    assert top is not None and top[0], "the top band of a generated page has words"
    assert all(b[1] >= 0 and b[3] <= data["cut"] + 2 for b in top[1])  # inside the band
    assert band_words(png, 0.5) is None  # another cut: nothing stored

    dataset = PageDataset(pages, image_size=32, max_tokens=512, ocr_mix=1.0, band=0.35)
    index = next(i for i, (p, _) in enumerate(dataset.pages) if p == png)
    expected = encode_words(top[0], top[1], Image.open(png).size, 512)
    assert dataset[index].text.input_ids.tolist() == expected.input_ids.tolist()
