"""Real pages in training: they carry stored OCR only, and repeat to weigh against the corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from models import train
from models.data.labels import CLASSES
from models.dataset import PageDataset, Repeated, page_words
from tests.models.test_pipeline import TINY as PIPELINE_TINY

# The pipeline tests' tiny model, with a real-pages folder in its data.
TINY = PIPELINE_TINY.replace(
    "[model]", 'real = ["{real}"]\nreal_repeat = 3\nreal_per_class = 2\nband_mix = 0.5\n[model]'
)


def _real_folder(corpus: Path, out: Path, counts: tuple[int, ...] = (1, 1)) -> Path:
    """Corpus pages made to look like real ones: the image and an OCR file, no ground truth;
    counts[i] pages of class i."""
    for label, count in zip(CLASSES, counts, strict=False):
        (out / label).mkdir(parents=True)
        for png in sorted((corpus / "train" / label).glob("*.png"))[:count]:
            shutil.copy(png, out / label / png.name)
            words = json.loads(png.with_suffix(".json").read_text())["words"]
            ocr = {"words": [{"text": w["text"].upper(), "box": w["box"]} for w in words]}
            (out / label / f"{png.stem}.ocr-tesseract.json").write_text(json.dumps(ocr))
    return out


def test_a_page_without_ground_truth_reads_its_ocr(corpus: Path, tmp_path: Path) -> None:
    real = _real_folder(corpus, tmp_path / "real", counts=(1,))
    png = next(real.glob("*/*.png"))
    words, boxes, from_ocr = page_words(png, use_ocr=False)
    assert from_ocr and words and all(w == w.upper() for w in words)
    assert len(boxes) == len(words)


def test_repeated_parts_index_every_page_times_its_repeat(corpus: Path, tmp_path: Path) -> None:
    real = _real_folder(corpus, tmp_path / "real")
    common = {"image_size": 64, "max_tokens": 24, "band_mix": 1.0}
    pages = PageDataset(real, **common)
    mixed = Repeated([(PageDataset(corpus / "val", per_class=1, **common), 1), (pages, 4)])
    assert len(mixed) == 16 + 4 * 2
    labels = [mixed[16 + i].label for i in range(8)]
    assert labels == [pages.pages[i % 2][1] for i in range(8)]
    # Each repeat draws its own top-band cut, so the same page gives different token counts.
    lengths = {len(mixed[16 + 2 * r].text.input_ids) for r in range(4)}
    assert len(lengths) > 1
    with pytest.raises(IndexError):
        mixed[len(mixed)]
    with pytest.raises(ValueError):
        Repeated([(pages, 0)])


def test_training_counts_and_records_its_real_pages(corpus: Path, tmp_path: Path) -> None:
    real = _real_folder(corpus, tmp_path / "real", counts=(3, 1))
    config = tmp_path / "tiny.toml"
    config.write_text(TINY.format(root=corpus, real=real))
    train.main(["--config", str(config), "--out", str(tmp_path / "run")])
    summary = json.loads((tmp_path / "run" / "train.json").read_text())
    # Class 0 has three real pages, class 1 one: towards 2 an epoch, at most 3 repeats.
    assert summary["train_pages"] == 2 * len(CLASSES) + 3 * 1 + 1 * 2
    parts = summary["train_parts"]
    assert [(p["label"], p["pages"], p["repeat"]) for p in parts] == [
        ("all", 2 * len(CLASSES), 1),
        (CLASSES[0], 3, 1),
        (CLASSES[1], 1, 2),
    ]
    assert {p["root"] for p in parts[1:]} == {str(real)}
