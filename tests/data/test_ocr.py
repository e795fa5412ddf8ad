"""The rendered text is what the ground truth says: real tesseract reads it back."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
from pathlib import Path

import pytest

from models.data import ocr
from models.data.labels import CLASSES
from models.data.page import render
from models.data.synth import page_seed
from models.ocr import OcrWord, TesseractEngine, make_engine, normalise, word_recall

pytest.importorskip("pytesseract")
if shutil.which("tesseract") is None:  # make test installs it; a bare pytest run may not have it
    pytest.skip("tesseract is not installed (make sysdeps)", allow_module_level=True)


def _read_back(job: tuple[str, int]) -> dict[str, tuple[int, int]]:
    """(found, total) ground-truth words per kind on one clean page."""
    label, index = job
    page = render(label, page_seed(21, label, index), clean_fraction=1.0)
    found = TesseractEngine().recognize(page.image)
    out = {}
    for kind in ("print", "hand", "mark"):
        truth = [
            (w["text"], w["box"])
            for w in page.record["words"]
            if w["kind"] == kind and normalise(w["text"])
        ]
        if truth:
            out[kind] = (round(word_recall(truth, found) * len(truth)), len(truth))
    return out


def test_tesseract_finds_the_ground_truth_words_on_clean_pages() -> None:
    jobs = [(label, 0) for label in CLASSES]  # one page a class: ~1,800 words, enough to judge
    with mp.get_context("fork").Pool(2) as pool:
        results = pool.map(_read_back, jobs)
    totals = {
        k: [sum(r[k][0] for r in results if k in r), sum(r[k][1] for r in results if k in r)]
        for k in ("print", "hand", "mark")
    }
    found = sum(v[0] for v in totals.values())
    total = sum(v[1] for v in totals.values())
    assert total > 1200
    assert found / total >= 0.90, totals
    assert totals["print"][0] / totals["print"][1] >= 0.92, totals
    # Handwriting fonts are meant to be hard for OCR, yet their boxes must hold those words.
    assert totals["hand"][0] / totals["hand"][1] >= 0.3, totals


def test_word_recall_needs_same_text_and_overlap() -> None:
    truth = [("Invoice", (10, 10, 60, 20)), ("No.", (65, 10, 80, 20)), ("--", (90, 10, 99, 20))]
    assert word_recall(truth, [OcrWord("invoice", (12, 11, 58, 21), 0.9)]) == 0.5
    assert word_recall(truth, [OcrWord("Invoice", (200, 11, 250, 21), 0.9)]) == 0.0
    assert (
        word_recall(
            truth, [OcrWord("Invoice", (12, 11, 58, 21), 0.9), OcrWord("No", (66, 9, 79, 21), 0.8)]
        )
        == 1.0
    )


def test_ocr_command_stores_words_beside_pages_and_resumes(
    corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    split = tmp_path / "val"
    for label in ("letter", "invoice"):
        shutil.copytree(corpus / "val" / label, split / label)
    ocr.main(["--data", str(split)])
    outs = sorted(split.rglob("*.ocr-tesseract.json"))
    assert len(outs) == 2
    for out in outs:
        data = json.loads(out.read_text())
        assert data["engine"] == "tesseract" and data["words"]
        w, h = json.loads(out.with_name(out.name.split(".")[0] + ".json").read_text())["size"]
        for word in data["words"]:
            x0, y0, x1, y1 = word["box"]
            assert 0 <= x0 < x1 <= w + 1 and 0 <= y0 < y1 <= h + 1
            assert 0 <= word["conf"] <= 1
    before = [p.stat().st_mtime_ns for p in outs]
    with caplog.at_level("INFO"):
        ocr.main(["--data", str(split)])
    assert [p.stat().st_mtime_ns for p in outs] == before
    assert "0 pages (2 already done)" in caplog.text


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown OCR engine"):
        make_engine("nope")
