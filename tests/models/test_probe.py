"""The text-only probe learns what a corpus' words say and scores it on other pages."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from models.probe import probe

TEXTS = {
    "invoice": [
        "invoice number {i} total due payable within thirty days amount VAT subtotal",
        "bill to customer account {i} unit price quantity invoice total balance due",
    ],
    "letter": [
        "dear Ms Smith thank you for your kind letter of {i} March sincerely yours",
        "dear Sir I write to let you know about our meeting {i} yours faithfully",
    ],
}


def write_pages(root: Path, offset: int) -> None:
    for label, templates in TEXTS.items():
        (root / label).mkdir(parents=True)
        for i in range(6):
            text = templates[i % 2].format(i=i + offset)
            words = [{"text": w, "box": [0, 0, 1, 1]} for w in text.split()]
            Image.new("L", (1, 1), 255).save(root / label / f"p{i}.png")
            (root / label / f"p{i}.json").write_text(json.dumps({"words": words}))


def test_words_that_carry_a_class_transfer_to_other_pages(tmp_path: Path) -> None:
    write_pages(tmp_path / "train", 0)
    write_pages(tmp_path / "eval", 100)
    result = probe(tmp_path / "train", tmp_path / "eval", per_class=None, progress=False)
    assert result["train_pages"] == 12 and result["eval_pages"] == 12
    assert result["eval_from_ocr"] == 0
    assert set(result["per_class"]) == {"invoice", "letter"}
    assert result["accuracy"] == 1.0, result


def test_swapped_labels_score_nothing(tmp_path: Path) -> None:
    write_pages(tmp_path / "train", 0)
    write_pages(tmp_path / "eval", 100)
    (tmp_path / "eval" / "invoice").rename(tmp_path / "eval" / "tmp")
    (tmp_path / "eval" / "letter").rename(tmp_path / "eval" / "invoice")
    (tmp_path / "eval" / "tmp").rename(tmp_path / "eval" / "letter")
    result = probe(tmp_path / "train", tmp_path / "eval", per_class=None, progress=False)
    assert result["accuracy"] == 0.0
    assert result["top_confusions"] == {"invoice->letter": 6, "letter->invoice": 6}
