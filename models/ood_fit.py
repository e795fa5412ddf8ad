"""What abstention's feature scores are fit on (models.ood_features): training pages' pooled
states, every exit, and out-of-scope training pages for the contrast score; and the links and
OCR that let the loaders read flat folders of out-of-scope pages (models.ood_eval)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from models.collect import collect
from models.data import ocr as ocr_cli
from models.data.labels import CLASSES
from models.dataset import model_pages
from models.multiexit import MultiExitLayoutLMv3
from models.ood_features import FeatureStats

FIT_DATA = [Path("data/realtrain"), Path("data/corpus2/train")]  # training pages only
# Pages a class, per FIT_DATA folder. Every real training page a class (up to 160) rather than
# 40 told the threshold pages from the out-of-scope folder less well, so the caps stay even.
FIT_PER_CLASS = [40, 40]
NEGATIVES = Path("data/ood_negatives")  # make ood-negatives
OLD_FIT_PER_CLASS = 40  # what cards that do not record their caps were fit with


SEP = "--"  # out-of-scope view pages are named <kind>--<id>.png


def link_view(src: Path, dst: Path, flat: bool) -> Path:
    """`dst` holding links to the pages of `src` and their stored OCR. flat: src is
    <kind>/<id>.png (not class folders); the view puts every page in one class folder (the
    loaders read class folders; the label is not used) and keeps the kind in the name."""
    for png in sorted(src.glob("*/*.png")):
        folder = dst / (CLASSES[0] if flat else png.parent.name)
        name = f"{png.parent.name}{SEP}{png.stem}" if flat else png.stem
        folder.mkdir(parents=True, exist_ok=True)
        for f in png.parent.glob(f"{png.stem}.*"):
            link = folder / f"{name}{f.name[len(png.stem) :]}"
            if not link.exists():
                link.symlink_to(f.resolve())
    return dst


def ensure_ocr(folder: Path, band: float | None, workers: int) -> None:
    """Tesseract over the pages that lack stored OCR (resumable; done pages are skipped)."""
    ocr_cli.main(["--data", str(folder), "--workers", str(workers)])
    if band is not None:
        ocr_cli.main(["--data", str(folder), "--workers", str(workers), "--band", str(band)])


def fit_features(
    model: MultiExitLayoutLMv3,
    folders: list[Path],
    per_class: list[int],
    workers: int,
    negatives: Path | None = None,
    work: Path = Path("build/ood"),
) -> FeatureStats:
    """models.ood_features' statistics from training pages' whole-page words (at most
    `per_class[i]` pages a class from `folders[i]`, OCR'd first where they lack it), every
    exit; with `negatives` (<kind>/<id>.png), their mean too."""
    if len(per_class) != len(folders):
        raise ValueError(f"{len(per_class)} page caps for {len(folders)} fit folders")
    features: dict[str, list[Tensor]] = {}
    labels = []
    for folder, cap in zip(folders, per_class, strict=True):
        ocr_cli.main(["--data", str(folder), "--workers", str(workers), "--per-class", str(cap)])
        out = collect(
            model, model_pages(folder, model.config, ocr_mix=1.0, per_class=cap), features=True
        )
        for name, f in out.features.items():
            features.setdefault(name, []).append(f)
        labels.append(out.labels)
    outside = None
    if negatives is not None:
        ensure_ocr(negatives, None, workers)
        view = link_view(negatives, work / "views" / "negatives", flat=True)
        outside = collect(model, model_pages(view, model.config, ocr_mix=1.0), features=True)
    return FeatureStats.fit(
        {n: torch.cat(f) for n, f in features.items()},
        torch.cat(labels),
        negatives=None if outside is None else outside.features,
    )
