"""Validation pages as the cascade meets them, for the operating-point search and its costs.

A request answered past the vision stage reads the top band of its page first (models.bands):
the multimodal exits up to Cascade.band_layers see the band's words, and only if none accepts
is the rest of the page read and the multimodal stream run again on every word. When the band
alone fills the model's text budget there is no second pass. A Trace lays one page's exits out
in that order, so that the same pure policies pick the same exit here as in the service, and its
cost counts what the cascade really runs: vision layers, band OCR, band layers, rest OCR, layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from models.collect import ExitOutputs
from models.policies import StepView


@dataclass
class Trace:
    views: list[StepView]  # every exit the cascade may meet, in order
    vision: int  # how many of them are vision exits (OCR not yet run)
    band: int  # how many then see the top band's words only (0 when the band fills the budget)
    filled: bool  # the top band alone filled the text budget: one OCR call, one pass
    full: StepView  # the final exit on the whole page's words (what full depth answers)


def _views(
    outputs: ExitOutputs, temps: dict[str, float], names: Sequence[str], i: int
) -> list[StepView]:
    def at(values: dict[str, torch.Tensor], name: str) -> float | None:
        return float(values[name][i]) if name in values else None

    return [
        StepView(
            n,
            tuple(torch.softmax(outputs.logits[n][i] / temps.get(n, 1.0), -1).tolist()),
            None if n not in outputs.gates else float(torch.sigmoid(outputs.gates[n][i])),
            at(outputs.image_similarity, n),
            at(outputs.text_similarity, n),
        )
        for n in names
    ]


def build_traces(
    full: ExitOutputs,
    band: ExitOutputs | None,
    filled: Sequence[bool],
    temps: dict[str, float],
    order: Sequence[str],
    band_layers: int,
    joined: ExitOutputs | None = None,
) -> list[Trace]:
    """full: every exit on whole-page words (what full depth reads); band: every exit on top-band
    words (None: the cascade reads whole pages at once); filled: per page, whether its band
    filled the budget; joined: every exit on the words of the band's and the rest's OCR calls
    together, what the cascade's second pass reads (None: the whole-page words stand in)."""
    second = full if joined is None else joined
    vision = [n for n in order if StepView(n, ()).stage == "vision"]
    text = [n for n in order if n not in vision]
    in_band = [n for n in text if not n.startswith("mm.") or int(n[3:]) <= band_layers]
    traces = []
    for i in range(len(full.labels)):
        head = _views(full, temps, vision, i)
        final = _views(full, temps, text[-1:], i)[0]
        if band is None:
            trace = Trace(head + _views(full, temps, text, i), len(vision), 0, False, final)
        elif filled[i]:
            trace = Trace(head + _views(band, temps, text, i), len(vision), 0, True, final)
        else:
            views = head + _views(band, temps, in_band, i) + _views(second, temps, text, i)
            trace = Trace(views, len(vision), len(in_band), False, final)
        traces.append(trace)
    return traces


def trace_cost(
    trace: Trace, index: int, latency: dict[str, Any], vision_run: int | None = None
) -> tuple[float, float, float]:
    """(encoder, OCR, end-to-end) seconds of a page that answers at trace.views[index].
    vision_run: how many vision exits the cascade runs at all (runtime.Cascade stops the vision
    stream after the last exit the policy may take); None: all of them."""
    stages = latency["stages"]
    run = trace.views[: index + 1]
    if vision_run is not None and index >= trace.vision:
        run = run[:vision_run] + run[trace.vision :]
    encoder = stages["embed"] + sum(stages[v.name] for v in run)
    if index < trace.vision:
        ocr = 0.0
    elif "ocr_band" not in latency:  # whole-page OCR only
        ocr = latency["ocr"]
    elif trace.filled or index < trace.vision + trace.band:
        ocr = latency["ocr_band"]
    else:
        ocr = latency["ocr_band"] + latency["ocr_rest"]
    return encoder, ocr, encoder + ocr
