"""Pages of a corpus split as model inputs: image tensor, tokens with boxes, label.

Text comes from the page's ground-truth words or, when `<id>.ocr-<engine>.json` exists beside the
page, from real OCR with probability `ocr_mix`, so the model sees both clean text and OCR noise.
With `band`, a page reads as the cascade's first OCR call reads it (models.bands): its top band's
words, from `<id>.ocr-<engine>-band<NN>.json` where `python -m models.data.ocr --band` stored
them (or, without that file, the page's words above the cut)."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from models.bands import Words, band_cut, words_above
from models.data.labels import CLASS_TO_ID, CLASSES
from models.inputs import TextInputs, encode_words, image_tensor, pad_text
from models.multiexit import MultiExitConfig


@dataclass
class Example:
    pixel_values: Tensor  # [3, S, S]
    text: TextInputs
    label: int
    ocr: bool  # text from real OCR rather than ground truth


Roots = Path | Sequence[Path]


def as_roots(root: Roots) -> list[Path]:
    return [root] if isinstance(root, Path) else list(root)


def list_pages(
    root: Roots, per_class: int | None = None, labels: Sequence[str] = CLASSES
) -> list[tuple[Path, int]]:
    """(png, label) pairs of one or more folders of class folders, sorted; at most per_class
    per class and folder; only the classes in `labels`."""
    pages = []
    for folder in as_roots(root):
        for label in labels:
            files = sorted((folder / label).glob("*.png"))
            pages += [(p, CLASS_TO_ID[label]) for p in files[:per_class]]
    if not pages:
        raise FileNotFoundError(f"no page images under {root}/<class>/*.png")
    return pages


def page_words(
    png: Path, use_ocr: bool, engine: str = "tesseract"
) -> tuple[list[str], list[Any], bool]:
    """Words and boxes of a page: OCR output if asked for and present, else its ground truth
    (a real page has none: then its OCR is all there is)."""
    ocr_file = png.with_name(f"{png.stem}.ocr-{engine}.json")
    truth = png.with_suffix(".json")
    from_ocr = ocr_file.exists() and (use_ocr or not truth.exists())
    source = ocr_file if from_ocr else truth
    if not source.exists():
        return [], [], False
    words = json.loads(source.read_text())["words"]
    return [w["text"] for w in words], [w["box"] for w in words], from_ocr


def band_words(png: Path, band: float, engine: str = "tesseract") -> Words | None:
    """The stored OCR of a page's top band cut at `band` (texts, boxes), or None when there is
    none."""
    path = png.with_name(f"{png.stem}.ocr-{engine}-band{round(100 * band):02d}.json")
    if not path.exists():
        return None
    top = json.loads(path.read_text())["top"]
    return [w["text"] for w in top], [w["box"] for w in top]


class PageDataset(Dataset[Example]):
    def __init__(
        self,
        root: Roots,
        *,
        image_size: int,
        max_tokens: int,
        pixels: str = "ink",
        page_fit: str = "squash",
        ocr_mix: float = 0.0,
        band_mix: float = 0.0,
        band: float | None = None,
        per_class: int | None = None,
        labels: Sequence[str] = CLASSES,
        seed: int = 0,
    ) -> None:
        self.root = root
        self.labels = tuple(labels)
        self.pages = list_pages(root, per_class, labels)
        self.image_size, self.max_tokens, self.pixels = image_size, max_tokens, pixels
        self.page_fit = page_fit
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
        stored = band_words(png, self.band) if self.band is not None and use_ocr else None
        if stored is not None:  # what the cascade's first OCR call found
            words, boxes = stored[0], list(stored[1])
        elif self.band is not None:
            # No stored band OCR: the page's words above the cut stand in for it.
            words, top = words_above((words, boxes), band_cut(image, self.band))
            boxes = list(top)
        elif rng.random() < self.band_mix:
            # The service reads the top band of a page first (runtime.Cascade): teach every exit
            # to answer from the words above a cut as well as from the whole page.
            cut = rng.uniform(0.12, 0.5) * image.height
            words, top = words_above((words, boxes), cut)
            boxes = list(top)
        text = encode_words(words, boxes, image.size, self.max_tokens, self.page_fit)
        pixels = image_tensor(image, self.image_size, self.pixels, self.page_fit)
        return Example(pixels, text, label, from_ocr)


def model_pages(root: Roots, config: MultiExitConfig, **options: Any) -> PageDataset:
    """The pages of `root` encoded as a model of `config` reads them (image size and encoding,
    page fit, text budget); `options` are PageDataset's own."""
    return PageDataset(
        root,
        image_size=config.image_size,
        pixels=config.pixels,
        page_fit=config.page_fit,
        max_tokens=config.max_text_tokens,
        **options,
    )


class Repeated(Dataset[Example]):
    """Several page datasets as one, each repeated a whole number of times per epoch: a few
    hundred real pages weigh as much as thousands of rendered ones. Each repeat of a page draws
    its own OCR/band choice, from (epoch, repeat) so that runs reproduce and resume."""

    def __init__(self, parts: list[tuple[PageDataset, int]]) -> None:
        if any(times < 1 for _, times in parts):
            raise ValueError("every part repeats at least once")
        self.parts = parts
        self.epoch = 0

    def __len__(self) -> int:
        return sum(len(part) * times for part, times in self.parts)

    def __getitem__(self, i: int) -> Example:
        for part, times in self.parts:
            size = len(part)
            if i < size * times:
                repeat, j = divmod(i, size)
                part.epoch = self.epoch * times + repeat
                return part[j]
            i -= size * times
        raise IndexError(i)


def collate(batch: list[Example]) -> dict[str, Tensor]:
    ids, bbox, mask = pad_text([b.text for b in batch])
    return {
        "pixel_values": torch.stack([b.pixel_values for b in batch]),
        "input_ids": ids,
        "bbox": bbox,
        "attention_mask": mask,
        "labels": torch.tensor([b.label for b in batch]),
    }
