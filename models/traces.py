"""Validation pages as the cascade meets them, for the operating-point search and its costs.

A request answered past the vision stage reads the top band of its page first (models.bands):
the multimodal exits of the plan's band (models.plan; all of them when the band alone fills the
model's text budget) see the band's words, and only if none accepts is the whole page read and
the multimodal stream run again on its words, as full depth runs it. A Trace lays one page's
exits out in the order the model's plan gives, the one models.runtime.Cascade follows, so that
the same pure policies pick the same exit here as in the service
(tests/models/test_trace_equals_live.py), and its cost counts what the cascade really runs:
vision layers, band OCR, band layers, page OCR, layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from models.card import Latency
from models.collect import ExitOutputs
from models.plan import EMBED, OCR_BAND, OCR_PAGE, CascadePlan, Exit
from models.policies import StepView


@dataclass
class Trace:
    plan: CascadePlan  # the model's exits, the order the views follow
    views: list[StepView]  # every exit the cascade may meet, in order
    vision: int  # how many of them are vision exits (OCR not yet run)
    band: int  # how many then see the top band's words (the rest see the whole page's)
    full: StepView  # the final exit on the whole page's words (what full depth answers)


def _views(
    outputs: ExitOutputs, temps: dict[str, float], exits: Sequence[Exit], i: int
) -> list[StepView]:
    def at(values: dict[str, torch.Tensor], name: str) -> float | None:
        return float(values[name][i]) if name in values else None

    return [
        StepView(
            e.name,
            tuple(torch.softmax(outputs.logits[e.name][i] / temps.get(e.name, 1.0), -1).tolist()),
            e.stage,
            None if e.name not in outputs.gates else float(torch.sigmoid(outputs.gates[e.name][i])),
            at(outputs.image_similarity, e.name),
            at(outputs.text_similarity, e.name),
            tuple(outputs.logits[e.name][i].tolist()),
            tuple(outputs.features[e.name][i].tolist()) if e.name in outputs.features else None,
        )
        for e in exits
    ]


def build_traces(
    full: ExitOutputs,
    band: ExitOutputs | None,
    filled: Sequence[bool],
    temps: dict[str, float],
    plan: CascadePlan,
) -> list[Trace]:
    """full: every exit on whole-page words (what full depth reads); band: every exit on top-band
    words (None: the cascade reads whole pages at once); filled: per page, whether its band
    filled the text budget (then every multimodal exit may answer on the band's words)."""
    vision, text = plan.vision, plan.multimodal
    traces = []
    for i in range(len(full.labels)):
        head = _views(full, temps, vision, i)
        final = _views(full, temps, [plan.final], i)[0]
        tail = _views(full, temps, text, i)
        if band is None:
            trace = Trace(plan, head + tail, len(vision), 0, final)
        else:
            first = _views(band, temps, text if filled[i] else plan.band, i)
            trace = Trace(plan, head + first + tail, len(vision), len(first), final)
        traces.append(trace)
    return traces


def trace_cost(
    trace: Trace, index: int, latency: Latency, vision_run: int | None = None
) -> tuple[float, float, float]:
    """(encoder, OCR, end-to-end) seconds of a page that answers at trace.views[index].
    vision_run: how many vision exits the cascade runs at all (runtime.Cascade stops the vision
    stream after the last exit the policy may take); None: all of them."""
    stages = latency.stages
    run = trace.views[: index + 1]
    if vision_run is not None and index >= trace.vision:
        run = run[:vision_run] + run[trace.vision :]
    encoder = stages[EMBED] + sum(stages[v.name] for v in run)
    ocr_s = latency.ocr_stages
    if index < trace.vision:
        ocr = 0.0
    elif not latency.banded or trace.band == 0:  # whole-page OCR only
        ocr = ocr_s[OCR_PAGE]
    elif index < trace.vision + trace.band:
        ocr = ocr_s[OCR_BAND]
    else:
        ocr = ocr_s[OCR_BAND] + ocr_s[OCR_PAGE]
    return encoder, ocr, encoder + ocr
