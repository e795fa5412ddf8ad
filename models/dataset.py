"""Pages of a corpus split as model inputs: image tensor, tokens with boxes, label.

Text comes from the page's ground-truth words or, when `<id>.ocr-<engine>.json` exists beside the
page, from real OCR with probability `ocr_mix`, so the model sees both clean text and OCR noise."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from models.bands import band_cut, words_above
from models.data.labels import CLASS_TO_ID, CLASSES
from models.inputs import TextInputs, encode_words, image_tensor, pad_text


@dataclass
class Example:
    pixel_values: Tensor  # [3, S, S]
    text: TextInputs
    label: int
    ocr: bool  # text from real OCR rather than ground truth


def list_pages(root: Path, per_class: int | None = None) -> list[tuple[Path, int]]:
    """(png, label) pairs of a folder of class folders, sorted; at most per_class per class."""
    pages = []
    for label in CLASSES:
        files = sorted((root / label).glob("*.png"))
        pages += [(p, CLASS_TO_ID[label]) for p in files[:per_class]]
    if not pages:
        raise FileNotFoundError(f"no page images under {root}/<class>/*.png")
    return pages


def page_words(
    png: Path, use_ocr: bool, engine: str = "tesseract"
) -> tuple[list[str], list[Any], bool]:
    """Words and boxes of a page: OCR output if asked for and present, else its ground truth."""
    ocr_file = png.with_name(f"{png.stem}.ocr-{engine}.json")
    if use_ocr and ocr_file.exists():
        words = json.loads(ocr_file.read_text())["words"]
        return [w["text"] for w in words], [w["box"] for w in words], True
    truth = png.with_suffix(".json")
    if truth.exists():
        words = json.loads(truth.read_text())["words"]
        return [w["text"] for w in words], [w["box"] for w in words], False
    return [], [], False


class PageDataset(Dataset[Example]):
    def __init__(
        self,
        root: Path,
        *,
        image_size: int,
        max_tokens: int,
        pixels: str = "ink",
        ocr_mix: float = 0.0,
        band_mix: float = 0.0,
        band: float | None = None,
        per_class: int | None = None,
        seed: int = 0,
    ) -> None:
        self.pages = list_pages(root, per_class)
        self.image_size, self.max_tokens, self.pixels = image_size, max_tokens, pixels
        self.ocr_mix, self.band_mix, self.seed, self.epoch = ocr_mix, band_mix, seed, 0
        self.band = band  # read only the words of the page's top band (see models.bands)

    def __len__(self) -> int:
        return len(self.pages)

    def __getitem__(self, i: int) -> Example:
        png, label = self.pages[i]
        # The clean/OCR choice depends on (seed, epoch, page) only: reproducible and resumable.
        key = hashlib.sha256(f"{self.seed}:{self.epoch}:{i}".encode()).digest()
        rng = random.Random(key)
        use_ocr = rng.random() < self.ocr_mix
        words, boxes, from_ocr = page_words(png, use_ocr)
        image = Image.open(png)
        if self.band is not None:
            words, top = words_above((words, boxes), band_cut(image, self.band))
            boxes = list(top)
        elif rng.random() < self.band_mix:
            # The service reads the top band of a page first (runtime.Cascade): teach every exit
            # to answer from the words above a cut as well as from the whole page.
            cut = rng.uniform(0.12, 0.5) * image.height
            words, top = words_above((words, boxes), cut)
            boxes = list(top)
        text = encode_words(words, boxes, image.size, self.max_tokens)
        return Example(image_tensor(image, self.image_size, self.pixels), text, label, from_ocr)


def collate(batch: list[Example]) -> dict[str, Tensor]:
    ids, bbox, mask = pad_text([b.text for b in batch])
    return {
        "pixel_values": torch.stack([b.pixel_values for b in batch]),
        "input_ids": ids,
        "bbox": bbox,
        "attention_mask": mask,
        "labels": torch.tensor([b.label for b in batch]),
    }
