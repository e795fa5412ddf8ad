"""One synthetic page from (label, seed): layout family, theme, blocks, marks, degradations."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from models.data import families, marks
from models.data.canvas import Canvas
from models.data.content import Content
from models.data.degrade import apply, sample
from models.data.labels import CLASS_TO_ID
from models.data.layout import Ctx, Flow, make_theme

GENERATOR_VERSION = 1
LONG_SIDE = 1000  # RVL-CDIP pages are scaled to a long side of 1000 px
PAPER_RATIOS = (8.5 / 11, 210 / 297)  # US letter, A4
LANDSCAPE = {"presentation": 0.8, "budget": 0.1, "advertisement": 0.1}


@dataclass
class Page:
    image: Image.Image
    record: dict[str, Any]


def render(label: str, seed: int, clean_fraction: float = 0.25, family: str | None = None) -> Page:
    """Render one page; identical (label, seed, clean_fraction) give identical pages."""
    rng = random.Random(seed)
    chosen = rng.choice(sorted(families.FAMILIES[label]))
    family = family or chosen
    short = int(LONG_SIDE * rng.choice(PAPER_RATIOS))
    landscape = rng.random() < LANDSCAPE.get(label, 0.0) and family != "handout"
    width, height = (LONG_SIDE, short) if landscape else (short, LONG_SIDE)
    paper = 255 if rng.random() < 0.7 else rng.randint(225, 250)
    canvas = Canvas(width, height, paper)
    theme = make_theme(
        rng, label, size=rng.randint(24, 32) if label == "presentation" and landscape else None
    )
    ctx = Ctx(canvas, rng, Content(rng), theme, label, families.GENRES.get(label, "business"))
    mx = int(width * rng.uniform(0.06, 0.13))
    my = int(height * rng.uniform(0.04, 0.09))
    flow = Flow(mx, width - mx, my, height - my)
    if label == "presentation" and landscape and rng.random() < 0.6:
        canvas.rect((mx // 2, my // 2, width - mx // 2, height - my // 2), outline=0, width=3)
    families.run(ctx, flow, family)
    if rng.random() < 0.15:
        marks.stamp(ctx)
    for _ in range(rng.choice((0, 0, 0, 1, 2))):
        marks.annotate(ctx)
    nprng = np.random.default_rng(rng.getrandbits(64))
    degradation = sample(nprng, clean_fraction)
    image, words = apply(canvas.image, canvas.words, degradation, nprng)
    record = {
        "label": label,
        "label_id": CLASS_TO_ID[label],
        "family": family,
        "seed": seed,
        "locale": ctx.content.locale,
        "size": list(image.size),
        "fields": dict(sorted(ctx.fields.items())),
        "degradation": asdict(degradation),
        "generator_version": GENERATOR_VERSION,
        "words": [
            {"text": w.text, "box": list(w.box), "line": w.line, "kind": w.kind} for w in words
        ],
    }
    return Page(image, record)
