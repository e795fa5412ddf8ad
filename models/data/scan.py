"""Scan looks for born-digital pages: a printer, photocopier, flatbed scanner or fax machine
between the file and the image, from augraphy, then the geometric part of models.data.degrade
(skew, cut edges, JPEG) that keeps each word's box on its pixels.

Only augraphy steps that leave geometry alone are used, so word boxes stay true through them.
Two offline traps: augraphy's Scribbles downloads fonts unless matplotlib.font_manager is
imported first (it is, below, though no style here scribbles), and every pipeline call writes
its input into ./augraphy_cache: calls run inside a scratch folder instead of the checkout."""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Callable
from pathlib import Path

import matplotlib.font_manager  # noqa: F401  (see the module docstring)
import numpy as np
from augraphy import (
    AugraphyPipeline,
    BadPhotoCopy,
    BrightnessTexturize,
    DirtyDrum,
    Faxify,
    InkBleed,
    InkMottling,
    Jpeg,
    LightingGradient,
    LowInkRandomLines,
    NoiseTexturize,
    SubtleNoise,
)
from PIL import Image

from models.data import degrade
from models.data.canvas import Word as CanvasWord
from models.data.engines.base import EnginePage, Word


# Augraphy's defaults are built for hard cases (grey pages, half the page in toner noise);
# office scans are mostly white paper with faint texture, so every step is toned down.
def _print_scan(seed: int) -> AugraphyPipeline:
    """Laser print, then a flatbed scan: faint paper grain, slightly uneven toner."""
    return AugraphyPipeline(
        ink_phase=[InkMottling(ink_mottling_alpha_range=(0.1, 0.2), p=0.3)],
        paper_phase=[
            NoiseTexturize(sigma_range=(2, 4), turbulence_range=(2, 3), p=0.5),
            BrightnessTexturize(texturize_range=(0.96, 0.99), deviation=0.02, p=0.4),
        ],
        post_phase=[
            LightingGradient(max_brightness=255, min_brightness=215, p=0.2),
            SubtleNoise(subtle_range=6, p=0.6),
            Jpeg(quality_range=(50, 90), p=0.5),
        ],
        random_seed=seed,
    )


def _photocopy(seed: int) -> AugraphyPipeline:
    """A worn photocopier: toner specks near an edge, faint drum streaks, ink spread."""
    return AugraphyPipeline(
        ink_phase=[
            InkBleed(intensity_range=(0.1, 0.3), severity=(0.1, 0.2), p=0.4),
            LowInkRandomLines(count_range=(2, 6), p=0.3),
        ],
        paper_phase=[NoiseTexturize(sigma_range=(2, 5), turbulence_range=(2, 3), p=0.4)],
        post_phase=[
            BadPhotoCopy(
                noise_iteration=(1, 1),
                noise_size=(1, 2),
                noise_value=(150, 220),
                noise_sparsity=(0.85, 0.97),
                noise_concentration=(0.03, 0.12),
                p=0.7,
            ),
            DirtyDrum(
                line_width_range=(1, 2), line_concentration=0.04, noise_value=(150, 220), p=0.3
            ),
            SubtleNoise(subtle_range=8, p=0.5),
        ],
        random_seed=seed,
    )


def _fax(seed: int) -> AugraphyPipeline:
    """A fax: slightly spread ink, then two-level halftoned output."""
    return AugraphyPipeline(
        ink_phase=[InkBleed(intensity_range=(0.1, 0.3), severity=(0.1, 0.2), p=0.4)],
        paper_phase=[],
        post_phase=[Faxify(scale_range=(1.0, 1.1), monochrome=1, halftone=0, p=1.0)],
        random_seed=seed,
    )


STYLES: dict[str, Callable[[int], AugraphyPipeline]] = {
    "print_scan": _print_scan,
    "photocopy": _photocopy,
    "fax": _fax,
}
STYLE_SHARE = {"print_scan": 0.5, "photocopy": 0.3, "fax": 0.2}


@functools.cache
def _scratch() -> Path:
    """One scratch folder per process for augraphy's ./augraphy_cache."""
    return Path(tempfile.mkdtemp(prefix="docexit-augraphy-"))


def scan(page: EnginePage, rng: np.random.Generator, style: str | None = None) -> EnginePage:
    """The page as a scan of a print of it (style drawn from STYLE_SHARE unless given); words
    whose box leaves the page are dropped."""
    style = style or str(rng.choice(list(STYLE_SHARE), p=list(STYLE_SHARE.values())))
    seed = int(rng.integers(2**31))
    pixels = np.asarray(page.image.convert("L"))
    # A process-wide chdir: corpus workers are processes, one page at a time each.
    with contextlib.chdir(_scratch()):
        out = STYLES[style](seed)(pixels)
    image = Image.fromarray(out if out.ndim == 2 else out[..., 0]).convert("L")
    geometry = degrade.sample(rng, clean_fraction=0.0)
    # augraphy owns the look; the generator's degradation adds only what moves pixels.
    geometry = degrade.Degradation(
        strength=geometry.strength,
        skew_deg=geometry.skew_deg,
        cut=geometry.cut,
        jpeg_quality=geometry.jpeg_quality if style != "fax" else 0,
    )
    words = [CanvasWord(w.text, w.box, -1) for w in page.words]
    image, moved = degrade.apply(image, words, geometry, rng)
    record = dict(page.record, scan=style, scan_seed=seed, degradation=vars(geometry))
    return EnginePage(image, [Word(w.text, w.box) for w in moved], record)
