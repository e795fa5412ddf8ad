"""Benchmark pages: generated with a fixed seed (not the training seed), every class, mixed
difficulty, with their ground truth. The same pages, in the same order, go to every variant."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from models.data.labels import CLASSES
from models.data.synth import generate

log = logging.getLogger("docexit.loadtests.pages")
BENCH_SEED = 20260  # training used seed 0; any other seed gives pages the model never saw


@dataclass(frozen=True)
class BenchPage:
    path: Path
    label: str
    strength: float  # scan degradation strength, 0 for a clean page

    @property
    def page_id(self) -> str:
        return self.path.stem

    @property
    def difficulty(self) -> str:
        if self.strength < 0.05:
            return "clean"
        return "light" if self.strength < 0.5 else "heavy"

    @cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def truth_ocr(self) -> str:
        """The generator's own words as the service's `ocr` field (client OCR, no Tesseract)."""
        record = json.loads(self.path.with_suffix(".json").read_text())
        words = [{"text": w["text"], "box": w["box"]} for w in record["words"]]
        return json.dumps({"words": words})


def make_pages(
    folder: Path,
    per_class: int,
    seed: int = BENCH_SEED,
    classes: tuple[str, ...] = CLASSES,
    workers: int = 2,
) -> list[BenchPage]:
    """Generate (or reuse) `per_class` pages per class in a subfolder of `folder` named by the
    arguments, and list them interleaved: one page of each class in turn, so that any prefix
    is a class mix."""
    which = "all" if tuple(classes) == CLASSES else "-".join(classes)
    folder = folder / f"seed{seed}-x{per_class}-{which}"
    if not (folder / "corpus.json").exists():  # written last: its presence means complete
        log.info("generating %d pages per class (seed %d) in %s", per_class, seed, folder)
        # Mostly "train" folders by name only: the seed, not the split, keeps them unseen.
        generate(folder, per_class, seed, workers, (1, 0, 0), classes=classes, progress=False)
    by_class: dict[str, list[BenchPage]] = {}
    for png in sorted(folder.glob("*/*/*.png")):
        record = json.loads(png.with_suffix(".json").read_text())
        strength = float(record.get("degradation", {}).get("strength", 0.0))
        by_class.setdefault(record["label"], []).append(BenchPage(png, record["label"], strength))
    pages: list[BenchPage] = []
    for i in range(max((len(v) for v in by_class.values()), default=0)):
        pages += [v[i] for c in classes if i < len(v := by_class.get(c, []))]
    return pages
