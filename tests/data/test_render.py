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
from models.data.labels import CLASSES
from models.data.layout import make_theme
from models.data.page import Page, render
from models.data.synth import page_seed

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


# What every page of a class shows whatever its layout family (surveyed on every family): the
# fields its blocks record, and words printed on it. Advertisements and handwritten notes have
# no field every family records; handwritten pages are written by hand instead.
CLASS_FIELDS: dict[str, set[str]] = {
    "letter": {"date", "recipient", "sender"},
    "form": {"form_number", "form_title"},
    "email": {"date", "from", "subject", "to"},
    "handwritten": set(),
    "advertisement": set(),
    "scientific_report": {"date", "organization", "report_number", "title"},
    "scientific_publication": {"authors", "title"},
    "specification": {"date", "revision", "spec_number", "title"},
    "file_folder": {"label"},
    "news_article": {"date", "headline", "publication"},
    "budget": {"organization", "period", "total"},
    "invoice": {"date", "invoice_number", "total", "vendor"},
    "presentation": {"title"},
    "questionnaire": {"organization", "title"},
    "resume": {"email", "name", "phone"},
    "memo": {"date", "from", "subject", "to"},
}
CLASS_WORDS: dict[str, tuple[str, ...]] = {
    "form": ("form",),
    "email": ("from:", "to:", "subject:", "@"),
    "specification": ("spec", "rev"),
    "news_article": ("by ",),
    "invoice": ("invoice", "total"),
    "resume": ("@",),
    "memo": ("to:", "from:"),
}
VARIANTS, THUMB_H, PER_ROW = 2, 60, 4
THUMB_W, GAP, LABEL_H = 48, 10, 26  # contact_sheet's cell geometry for THUMB_H


def _sheet_page(label: str, variant: int, clean: bool = False) -> Page:
    """The page the contact sheet shows for (label, variant) with its default seed; clean: the
    same layout and content before the scan degradations."""
    seed = page_seed(0, label, variant)
    return render(label, seed, clean_fraction=1.0) if clean else render(label, seed)


def _thumbnail(page: Page) -> np.ndarray:
    image = page.image.copy()
    image.thumbnail((THUMB_W, THUMB_H), Image.Resampling.LANCZOS)
    return np.asarray(image)


def test_contact_sheet_shows_every_class() -> None:
    """Each class's cell holds its name and thumbnails of that class's own pages."""
    sheet = contact_sheet(variants=VARIANTS, thumb_height=THUMB_H, per_row=PER_ROW)
    assert isinstance(sheet, Image.Image) and sheet.mode == "L"
    cell_w, cell_h = VARIANTS * (THUMB_W + GAP), LABEL_H + THUMB_H + GAP
    rows = -(-len(CLASSES) // PER_ROW)
    assert sheet.size == (PER_ROW * cell_w + GAP, rows * cell_h + GAP)
    pixels = np.asarray(sheet)
    captions, thumbs = [], []
    for k, label in enumerate(CLASSES):
        x0, y0 = GAP + (k % PER_ROW) * cell_w, GAP + (k // PER_ROW) * cell_h
        caption = pixels[y0 : y0 + LABEL_H, x0 : x0 + cell_w - GAP]
        assert (caption < 100).sum() > 50, f"no caption over {label}'s cell"
        captions.append(caption)
        for v in range(VARIANTS):
            want = _thumbnail(_sheet_page(label, v))
            x, y = x0 + v * (THUMB_W + GAP), y0 + LABEL_H
            got = pixels[y : y + want.shape[0], x : x + want.shape[1]]
            np.testing.assert_array_equal(got, want, err_msg=f"{label} variant {v}")
            thumbs.append(got)
    # Different names over the cells, and no page shown twice (variants differ too).
    for i, a in enumerate(captions):
        assert all(not np.array_equal(a, b) for b in captions[i + 1 :]), CLASSES[i]
    for i, a in enumerate(thumbs):
        for b in thumbs[i + 1 :]:
            assert a.shape != b.shape or np.abs(a.astype(int) - b).mean() > 2


@pytest.mark.parametrize("label", CLASSES)
def test_each_class_prints_its_own_content(label: str) -> None:
    """The pages the sheet shows: a family of the class, the class's fields recorded and printed,
    its telltale words, every word box inside the page and over ink."""
    for v in range(VARIANTS):
        page = _sheet_page(label, v, clean=True)
        record = page.record
        assert record["label"] == label and record["label_id"] == CLASSES.index(label)
        assert record["family"] in FAMILIES[label]
        words = record["words"]
        assert words
        text = " ".join(w["text"] for w in words).lower()
        assert CLASS_FIELDS[label] <= set(record["fields"]), (v, record["fields"])
        for key, value in record["fields"].items():
            assert str(value).lower() in text, (v, key, value)
        for telltale in CLASS_WORDS.get(label, ()):
            assert telltale in text, (v, telltale)
        hand = sum(w["kind"] == "hand" for w in words) / len(words)
        if label == "handwritten":
            assert hand > 0.5, v
        ink = np.asarray(page.image) < 128
        height, width = ink.shape
        assert (width, height) == tuple(record["size"])
        for w in words:
            x0, y0, x1, y1 = w["box"]
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (v, w)
            assert ink[y0:y1, x0:x1].any(), (v, w)  # the word was really drawn there
        # The degraded page the sheet shows keeps the layout: same family, boxes in the page.
        shown = _sheet_page(label, v).record
        assert shown["family"] == record["family"] and shown["fields"] == record["fields"]
        w_, h_ = shown["size"]
        assert all(
            0 <= b[0] < b[2] <= w_ and 0 <= b[1] < b[3] <= h_
            for b in (w["box"] for w in shown["words"])
        )


def test_the_label_decides_what_is_drawn() -> None:
    """The same seed under two labels gives two different pages, with other words."""
    seed = 5
    pages = {label: render(label, seed, clean_fraction=1.0) for label in CLASSES}
    for i, a in enumerate(CLASSES):
        for b in CLASSES[i + 1 :]:
            ra, rb = pages[a].record, pages[b].record
            wa = {w["text"] for w in ra["words"]}
            wb = {w["text"] for w in rb["words"]}
            overlap = len(wa & wb) / max(1, len(wa | wb))
            assert overlap < 0.6, (a, b, overlap)  # 1.0 if the label were ignored
            assert not np.array_equal(np.asarray(pages[a].image), np.asarray(pages[b].image))
