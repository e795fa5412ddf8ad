"""Run a model over a dataset and keep every exit's outputs (for validation, calibration and
operating points): logits, gate logits and MuE similarities, per page."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor
from tqdm import tqdm

from models.dataset import PageDataset, Roots, collate, model_pages
from models.multiexit import MultiExitLayoutLMv3


@dataclass
class ExitOutputs:
    labels: Tensor  # [N]
    logits: dict[str, Tensor] = field(default_factory=dict)  # exit -> [N, K]
    gates: dict[str, Tensor] = field(default_factory=dict)  # exit -> [N]
    image_similarity: dict[str, Tensor] = field(default_factory=dict)  # exit -> [N]
    text_similarity: dict[str, Tensor] = field(default_factory=dict)  # exit -> [N]
    features: dict[str, Tensor] = field(default_factory=dict)  # exit -> [N, d] (when asked)

    def accuracy(self) -> dict[str, float]:
        return {
            n: float((x.argmax(-1) == self.labels).float().mean()) for n, x in self.logits.items()
        }


@torch.no_grad()
def collect(
    model: MultiExitLayoutLMv3,
    data: PageDataset,
    batch_size: int = 16,
    progress: bool = True,
    features: bool = False,
) -> ExitOutputs:
    """features: keep each exit's pooled state too (models.ood's feature distance)."""
    model.eval()
    chunks: dict[str, dict[str, list[Tensor]]] = {
        "logits": {},
        "gates": {},
        "image": {},
        "text": {},
        "features": {},
    }
    labels = []
    starts = range(0, len(data), batch_size)
    for start in tqdm(starts, desc="collect", unit="batch", disable=not progress, leave=False):
        batch = collate([data[i] for i in range(start, min(len(data), start + batch_size))])
        labels.append(batch.pop("labels"))
        out = model(**batch)
        for name, step in out.steps.items():
            chunks["logits"].setdefault(name, []).append(step.logits.float())
            for key, value in (
                ("gates", step.gate),
                ("image", step.image_similarity),
                ("text", step.text_similarity),
                ("features", step.features if features else None),
            ):
                if value is not None:
                    chunks[key].setdefault(name, []).append(value.float())
    cat = {k: {n: torch.cat(v) for n, v in d.items()} for k, d in chunks.items()}
    return ExitOutputs(
        torch.cat(labels), cat["logits"], cat["gates"], cat["image"], cat["text"], cat["features"]
    )


def val_pages(
    model: MultiExitLayoutLMv3,
    data: Roots,
    per_class: int | None,
    band: float | None = None,
) -> PageDataset:
    """Validation pages as the service sees them: through stored OCR text where present, and
    with `band`, the words of each page's top band (models.dataset)."""
    return model_pages(data, model.config, ocr_mix=1.0, band=band, per_class=per_class)


def val_outputs(
    model: MultiExitLayoutLMv3,
    data: Roots,
    per_class: int | None,
    band: float | None = None,
) -> ExitOutputs:
    """Every exit's outputs on validation pages (see val_pages)."""
    return collect(model, val_pages(model, data, per_class, band))
