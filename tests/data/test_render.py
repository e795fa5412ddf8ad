"""Every layout family of every class renders; degradations keep boxes on the ink."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from models.data.canvas import Canvas
from models.data.contact_sheet import contact_sheet
from models.data.degrade import Degradation, apply
from models.data.families import BLOCKS, FAMILIES, SPARSE_FAMILIES
from models.data.layout import make_theme
from models.data.page import render

ALL_FAMILIES = [(label, family) for label, fams in FAMILIES.items() for family in sorted(fams)]


@pytest.mark.parametrize(("label", "family"), ALL_FAMILIES)
def test_every_family_renders(label: str, family: str) -> None:
    page = render(label, seed=3, family=family, clean_fraction=1.0)
    assert page.record["family"] == family
    assert max(page.image.size) == 1000
    ink = np.asarray(page.image) < 128
    assert ink.mean() > 0.002  # something is printed on every page
    if (label, family) not in SPARSE_FAMILIES:
        assert len(page.record["words"]) >= 2


def test_every_family_names_known_blocks() -> None:
    for label, fams in FAMILIES.items():
        assert len(fams) >= 8, label
        for sentence in fams.values():
            for token in sentence.split():
                for name in token.rstrip("?").split("|"):
                    assert name.partition(":")[0] in BLOCKS, (label, token)


def _page_with_words() -> Canvas:
    canvas = Canvas(700, 1000)
    theme = make_theme(random.Random(0), "letter", size=16)
    for i in range(20):
        canvas.write(40 + (i % 3) * 200, 40 + i * 45, "Word box test", theme.body)
    return canvas


@pytest.mark.parametrize(
    "degradation",
    [
        Degradation(strength=1, skew_deg=3.0),
        Degradation(strength=1, skew_deg=-2.5, cut=(30, 0, 0, 20)),
        Degradation(strength=1, cut=(0, 40, 25, 0), blur=0.5),
    ],
)
def test_degraded_boxes_follow_the_ink(degradation: Degradation) -> None:
    canvas = _page_with_words()
    image, words = apply(canvas.image, canvas.words, degradation, np.random.default_rng(0))
    page = np.asarray(image)
    assert image.size == (
        700 - degradation.cut[0] - degradation.cut[2],
        1000 - degradation.cut[1] - degradation.cut[3],
    )
    assert len(words) >= 40
    covered = np.zeros(page.shape, bool)
    for w in words:
        x0, y0, x1, y1 = w.box
        assert page[y0:y1, x0:x1].min() < 100, w
        covered[max(0, y0 - 2) : y1 + 2, max(0, x0 - 2) : x1 + 2] = True
    # Ink outside every box can only come from words that were dropped at a cut edge.
    stray = (page < 100) & ~covered
    edge = np.zeros(page.shape, bool)
    edge[:40, :] = edge[-40:, :] = edge[:, :60] = edge[:, -60:] = True
    assert not (stray & ~edge).any()


def test_contact_sheet_shows_every_class() -> None:
    sheet = contact_sheet(variants=1, thumb_height=60, per_row=4)
    assert isinstance(sheet, Image.Image)
    assert sheet.size == (4 * (48 + 10) + 10, 4 * (26 + 60 + 10) + 10)
    assert (np.asarray(sheet) < 100).mean() > 0.01
