"""The generated corpus: layout, labels, word boxes true to the pixels, key fields."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from models.data.families import FAMILIES, REQUIRED_FIELDS, SPARSE_FAMILIES
from models.data.labels import CLASS_TO_ID, CLASSES
from models.ocr import normalise
from tests.conftest import PER_CLASS


def test_every_class_in_every_split(corpus: Path) -> None:
    for split in ("train", "val", "test"):
        found = {p.name for p in (corpus / split).iterdir() if any(p.glob("*.png"))}
        assert found == set(CLASSES), split
    summary = json.loads((corpus / "corpus.json").read_text())
    assert summary["pages"] == PER_CLASS * len(CLASSES)
    assert all(summary["counts"]["val"][c] == 1 for c in CLASSES)


def test_records_match_their_files(corpus: Path, records: list[dict[str, Any]]) -> None:
    assert len(records) == PER_CLASS * len(CLASSES)
    for rec in records:
        png = corpus / rec["split"] / rec["label"] / f"{rec['id']}.png"
        image = Image.open(png)
        assert image.mode == "L"
        assert list(image.size) == rec["size"]
        assert 950 <= max(image.size) <= 1000  # RVL-CDIP's long side, less any cut margin
        assert rec["label_id"] == CLASS_TO_ID[rec["label"]]
        assert rec["family"] in FAMILIES[rec["label"]]


def test_word_boxes_inside_page(records: list[dict[str, Any]]) -> None:
    for rec in records:
        w, h = rec["size"]
        for word in rec["words"]:
            x0, y0, x1, y1 = word["box"]
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (rec["id"], word)
            assert word["text"].strip() == word["text"] != ""
            assert word["kind"] in ("print", "hand", "mark")


def test_word_boxes_hold_ink(corpus: Path, records: list[dict[str, Any]]) -> None:
    """On clean and skew-only pages every box covers dark pixels and no ink lies far from words
    except graphics: checked as 'the box is darker than the paper around it'."""
    checked = 0
    for rec in records:
        d = rec["degradation"]
        if d["strength"] and (
            d["noise"] or d["speckle"] or d["binarize"] or d["contrast"] != [0, 255]
        ):
            continue
        page = np.asarray(Image.open(corpus / rec["split"] / rec["label"] / f"{rec['id']}.png"))
        paper = np.percentile(page, 90)
        for word in rec["words"]:
            x0, y0, x1, y1 = word["box"]
            ink = page[y0:y1, x0:x1].min()
            assert ink < paper - 60, (rec["id"], word, ink, paper)
            checked += 1
    assert checked > 1000


def test_layout_families_are_varied(records: list[dict[str, Any]]) -> None:
    assert all(len(f) >= 8 for f in FAMILIES.values())
    per_class = Counter(rec["label"] for rec in records)
    families = {c: {r["family"] for r in records if r["label"] == c} for c in CLASSES}
    assert all(len(families[c]) >= min(3, per_class[c]) for c in CLASSES), families


def test_required_fields_present_and_on_the_page(records: list[dict[str, Any]]) -> None:
    for rec in records:
        if (rec["label"], rec["family"]) in SPARSE_FAMILIES:
            continue
        missing = [f for f in REQUIRED_FIELDS[rec["label"]] if not rec["fields"].get(f)]
        assert not missing, (rec["id"], rec["family"], missing)
        if rec["degradation"]["strength"] == 0:
            words = Counter(normalise(w["text"]) for w in rec["words"])
            for name, value in rec["fields"].items():
                tokens = Counter(normalise(t) for t in value.split()) - Counter({"": 99})
                assert not tokens - words, (rec["id"], name, value)


def test_degradations_and_locales_vary(records: list[dict[str, Any]]) -> None:
    clean = sum(r["degradation"]["strength"] == 0 for r in records)
    assert 0.1 * len(records) < clean < 0.45 * len(records)
    assert len({r["locale"] for r in records}) >= 4
    skews = [abs(r["degradation"]["skew_deg"]) for r in records]
    assert max(skews) <= 3.0 and sum(s > 0 for s in skews) > 10
