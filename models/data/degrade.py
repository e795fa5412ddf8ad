"""Scan degradations at random strength, keeping the word boxes true to the degraded pixels."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from models.data.canvas import Word
from models.data.marks import rotated_box


@dataclass
class Degradation:
    """What was done to a page; stored in its JSON so that difficulty can be studied later."""

    strength: float = 0.0
    skew_deg: float = 0.0
    blur: float = 0.0
    contrast: tuple[int, int] = (0, 255)
    noise: float = 0.0
    speckle: float = 0.0
    binarize: int = 0
    jpeg_quality: int = 0
    cut: tuple[int, int, int, int] = (0, 0, 0, 0)


def sample(rng: np.random.Generator, clean_fraction: float) -> Degradation:
    """Each degradation switches on with a probability that grows with the page's strength."""
    if rng.random() < clean_fraction:
        return Degradation()
    s = float(rng.uniform(0.15, 1.0))
    on = lambda p: bool(rng.random() < p * (0.4 + s))  # noqa: E731
    d = Degradation(strength=round(s, 3))
    if on(0.7):
        d.skew_deg = round(float(rng.uniform(-3, 3) * s), 3)
    if on(0.4):
        d.blur = round(float(rng.uniform(0.3, 1.1) * s), 3)
    if on(0.4):
        d.contrast = (int(rng.uniform(0, 90) * s), int(255 - rng.uniform(0, 70) * s))
    if on(0.5):
        d.noise = round(float(rng.uniform(3, 22) * s), 2)
    if on(0.4):
        d.speckle = round(float(rng.uniform(0.0005, 0.006) * s), 5)
    if on(0.3):
        d.binarize = int(rng.uniform(100, 175))
    if on(0.4):
        d.jpeg_quality = int(rng.uniform(15, 60))
    if on(0.25):
        side = int(rng.integers(4))
        cut = [0, 0, 0, 0]
        cut[side] = int(rng.uniform(0.01, 0.05) * 1000)
        d.cut = (cut[0], cut[1], cut[2], cut[3])
    return d


def apply(
    image: Image.Image, words: list[Word], d: Degradation, rng: np.random.Generator
) -> tuple[Image.Image, list[Word]]:
    """Degrade the page; returns the new image and the words still fully on it, boxes moved."""
    w, h = image.size
    if d.skew_deg:
        image = image.rotate(d.skew_deg, resample=Image.Resampling.BILINEAR, fillcolor=255)
        words = [_moved(wd, rotated_box(wd.box, w / 2, h / 2, d.skew_deg)) for wd in words]
    if d.blur:
        image = image.filter(ImageFilter.GaussianBlur(d.blur))
    if d.contrast != (0, 255) or d.noise or d.speckle or d.binarize:
        a = np.asarray(image, dtype=np.float32)
        lo, hi = d.contrast
        a = lo + a * ((hi - lo) / 255.0)
        if d.noise:
            a += rng.normal(0, d.noise, size=a.shape).astype(np.float32)
        if d.speckle:
            hits = rng.random(a.shape, dtype=np.float32)
            a[hits < d.speckle / 2] = 0
            a[hits > 1 - d.speckle / 2] = 255
        if d.binarize:
            a = np.where(a < d.binarize, 0.0, 255.0)
        image = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if d.jpeg_quality:
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=d.jpeg_quality)
        image = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    if any(d.cut):
        left, top, right, bottom = d.cut
        image = image.crop((left, top, w - right, h - bottom))
        words = [
            _moved(wd, (wd.box[0] - left, wd.box[1] - top, wd.box[2] - left, wd.box[3] - top))
            for wd in words
        ]
    return image, [wd for wd in words if _inside(wd, image.size)]


def _moved(word: Word, box: tuple[float, float, float, float]) -> Word:
    return Word(
        word.text,
        (int(box[0]), int(box[1]), int(box[2]) + 1, int(box[3]) + 1),
        word.line,
        word.kind,
    )


def _inside(word: Word, size: tuple[int, int]) -> bool:
    x0, y0, x1, y1 = word.box
    return x0 >= 0 and y0 >= 0 and x1 <= size[0] and y1 <= size[1] and x1 > x0 and y1 > y0
