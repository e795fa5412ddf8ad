"""Measured seconds per stage of the cascade on this machine: OCR (whole page, top band), the
image embedding, and every vision and multimodal exit, each layer timed alone."""

from __future__ import annotations

import itertools
import platform
import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch
from PIL import Image

from models.bands import OcrFn, band_cut, ocr_band
from models.card import Latency
from models.inputs import encode_words, image_tensor
from models.multiexit import MultiExitLayoutLMv3
from models.plan import EMBED, OCR_BAND, OCR_PAGE


def measure_latency(
    model: MultiExitLayoutLMv3,
    images: Sequence[Image.Image],
    ocr: OcrFn,
    band: float | None = None,
) -> Latency:
    """Mean seconds per stage over `images`, with real OCR calls (and, with a band fraction, the
    top band's OCR timed apart, as the cascade's first call runs it)."""
    c = model.config
    stage: dict[str, list[float]] = {}

    def timed(key: str, fn: Any, *args: Any) -> Any:
        t = time.perf_counter()
        out = fn(*args)
        stage.setdefault(key, []).append(time.perf_counter() - t)
        return out

    for image in images:
        texts, boxes = timed(OCR_PAGE, ocr, image)
        if band is not None:
            timed(OCR_BAND, ocr_band, ocr, image, 0, band_cut(image, band))
        with torch.inference_mode():
            tokens = timed(
                EMBED,
                model.embed_image,
                image_tensor(image, c.image_size, c.pixels, c.page_fit)[None],
            )
            t = time.perf_counter()
            for step in model.vision_steps(tokens):
                now = time.perf_counter()
                stage.setdefault(step.name, []).append(now - t)
                t = now
            text = encode_words(texts, boxes, image.size, c.max_text_tokens, c.page_fit)
            t = time.perf_counter()
            state, first = model.start_multimodal(
                tokens, text.input_ids[None], text.bbox[None], text.attention_mask[None]
            )
            # Lazily: each layer runs only when the loop asks for its exit, so it is timed alone.
            for step in itertools.chain(first, model.multimodal_steps(state)):
                now = time.perf_counter()
                stage.setdefault(step.name, []).append(now - t)
                t = now
    means = {k: statistics.fmean(v) for k, v in stage.items()}
    ocr_s = {k: means.pop(k) for k in (OCR_PAGE, OCR_BAND) if k in means}
    return Latency(
        ocr=ocr_s[OCR_PAGE],
        ocr_band=ocr_s.get(OCR_BAND),
        band=band,
        stages=means,
        pages=len(images),
        device=str(next(model.parameters()).device),
        threads=torch.get_num_threads(),
        machine=platform.processor() or platform.machine(),
    )
