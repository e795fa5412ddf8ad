"""The offline traces (models.traces: what the operating points and the threshold search price)
choose, page by page and policy by policy, the exit and the class that the live cascade
(models.runtime.Cascade) chooses when it really runs the layers and the OCR calls. Both follow
the model's plan (models.plan); this proves they agree, for ramp and for gate heads."""

from __future__ import annotations

import json
import random
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from models.collect import val_outputs
from models.data.labels import CLASSES
from models.data.ocr import _ocr_bands
from models.multiexit import MultiExitLayoutLMv3
from models.ocr import OcrWord
from models.operating_points import band_filled
from models.policies import (
    Gate,
    GlobalThreshold,
    Patience,
    PerExitThresholds,
    Policy,
    Similarity,
    first_exit,
)
from models.runtime import Cascade, Words
from models.traces import Trace, build_traces
from tests.models.conftest import tiny_config

BAND = 0.35
VOCAB = ["invoice", "total", "due", "report", "page", "memo", "date", "figure", "the", "of"]


class BarOcr:
    """A deterministic OCR engine for drawn pages: every run of ink on a line of ink is a word,
    named by its width. It reads a band of a page exactly as it reads those rows of the whole
    page, as a real engine does when the cut falls between lines."""

    name = "tesseract"  # stored under the name the page readers look for (models.dataset)

    def recognize(self, image: Image.Image) -> list[OcrWord]:
        ink = np.asarray(image.convert("L")) < 128  # [H, W]
        words, rows = [], _runs(ink.any(1))
        for top, bottom in rows:
            for left, right in _runs(ink[top:bottom].any(0)):
                text = VOCAB[(right - left) % len(VOCAB)]
                words.append(OcrWord(text, (left, top, right, bottom), 1.0))
        return words

    def __call__(self, image: Image.Image) -> Words:
        found = self.recognize(image)
        return [w.text for w in found], [w.box for w in found]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def _page(rng: random.Random) -> Image.Image:
    """A page of bar 'words' on lines; some pages start low, so their top band is short of the
    text budget and the cascade reads the whole page too."""
    page = Image.new("L", (240, 320), 255)
    draw = ImageDraw.Draw(page)
    y = rng.choice([12, 12, 150])
    while y < 300:
        x = 10
        for _ in range(rng.randint(1, 5)):
            w = rng.randint(12, 40)
            if x + w > 230:
                break
            draw.rectangle((x, y, x + w, y + 7), fill=0)
            x += w + rng.randint(6, 14)
        y += rng.randint(14, 26)
    return page


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Pages on disk with their stored whole-page and top-band OCR, as the offline tools read
    them (models.data.ocr writes both)."""
    root, rng, engine, out = tmp_path_factory.mktemp("pages"), random.Random(0), BarOcr(), []
    for i in range(24):
        folder = root / CLASSES[i % 2]
        folder.mkdir(exist_ok=True)
        png = folder / f"page-{i:03d}.png"
        _page(rng).save(png)
        words = [asdict(w) for w in engine.recognize(Image.open(png))]
        png.with_name(f"{png.stem}.ocr-tesseract.json").write_text(json.dumps({"words": words}))
        _ocr_bands(png, engine, BAND)
        out.append(png)
    return sorted(out, key=lambda p: (CLASSES.index(p.parent.name), p.name))


def _traces(model: MultiExitLayoutLMv3, root: Path, temps: dict[str, float]) -> list[Trace]:
    full = val_outputs(model, root, None)
    top = val_outputs(model, root, None, BAND)
    filled = band_filled(model, root, None, BAND)
    return build_traces(full, top, filled, temps, model.config.plan)


def _between(values: list[float], q: float) -> float:
    """A threshold near the q-quantile of `values`, in the widest gap there, so that float
    noise between a batched and a one-page run cannot move a page across it."""
    ordered = sorted(v for v in values if v == v)
    i = min(len(ordered) - 2, max(0, int(q * len(ordered))))
    gaps = [
        (ordered[j + 1] - ordered[j], j) for j in range(max(0, i - 3), min(len(ordered) - 1, i + 4))
    ]
    _, j = max(gaps)
    return (ordered[j] + ordered[j + 1]) / 2


def _policies(traces: list[Trace]) -> list[Policy]:
    views = [v for t in traces for v in t.views]
    conf = [v.confidence for v in views]
    by_exit: dict[str, list[float]] = {}
    for v in views:
        by_exit.setdefault(v.name, []).append(v.confidence)
    names = list(by_exit)
    image = [v.image_similarity for v in views if v.image_similarity is not None]
    text = [v.text_similarity for v in views if v.text_similarity is not None]
    return [
        GlobalThreshold(_between(conf, 0.7)),
        GlobalThreshold(_between(conf, 0.95)),
        PerExitThresholds({n: _between(by_exit[n], 0.6) for n in names[1::2]}),
        PerExitThresholds({n: _between(by_exit[n], 0.5) for n in names if n.startswith("mm.")}),
        Patience(2),
        Patience(3),
        Similarity(_between(image, 0.5), _between(text, 0.3)),
    ]


def _check(model: MultiExitLayoutLMv3, pages: list[Path], policies: list[Policy]) -> int:
    """Every page under every policy: the trace's first accepted view is the live answer (exit,
    class, and the OCR calls it took to get there). Returns how many answers came early."""
    temps = {n: 1.0 + 0.1 * i for i, n in enumerate(model.config.exit_names())}
    traces = _traces(model, pages[0].parent.parent, temps)
    cascade, ocr, early = Cascade(model, temps, BAND), BarOcr(), 0
    for policy in policies or _policies(traces):
        for png, trace in zip(pages, traces, strict=True):
            i = first_exit(policy, trace.views)
            live = cascade.classify(Image.open(png), ocr=ocr, policy=policy)
            offline = trace.views[i]
            calls = 0 if i < trace.vision else 1 if i < trace.vision + trace.band else 2
            assert (live.exit, live.label, live.ocr_bands) == (
                offline.name,
                offline.prediction,
                calls,
            ), (
                policy,
                png.name,
            )
            early += i < len(trace.views) - 1
    return early


def test_offline_traces_choose_what_the_live_cascade_chooses(pages: list[Path]) -> None:
    torch.manual_seed(0)
    model = MultiExitLayoutLMv3(tiny_config(max_text_tokens=24)).eval()
    early = _check(model, pages, [])
    assert early > 0  # some answers came before the last exit: the comparison means something


def test_a_gate_model_runs_its_plan_live_and_offline(pages: list[Path]) -> None:
    torch.manual_seed(1)
    model = MultiExitLayoutLMv3(tiny_config(max_text_tokens=24, head="gate")).eval()
    assert "emb.concat" not in model.config.exit_names()  # a gate model has no such exit
    temps = dict.fromkeys(model.config.exit_names(), 1.0)
    traces = _traces(model, pages[0].parent.parent, temps)
    gates = [v.gate_prob for t in traces for v in t.views if v.gate_prob is not None]
    early = _check(model, pages, [Gate(_between(gates, 0.6)), GlobalThreshold(0.0), Patience(2)])
    assert early > 0
