"""Operating points: every policy over a sweep of its knob, on validation pages, with the
measured latency of each stage; the table the service turns a latency budget into thresholds with.

    python -m models.operating_points --checkpoint models/checkpoints/default --data data/synth/val

Decisions are taken by the same pure policy functions the service runs, over the exits' recorded
outputs laid out as the cascade meets them (models.traces: vision exits, top-band exits, whole-
page exits); latency per stage (OCR of the page, of its top band and of the rest, each vision
layer, each multimodal layer) is measured on this machine with real OCR and real layer-by-layer
runs, and a point's latency is what its exit mix costs in those measured stage times."""

from __future__ import annotations

import argparse
import logging
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from models.card import Card, CheckpointError, Latency, Metrics, OperatingPoint, PolicyCard
from models.checkpoint import load_checkpoint
from models.collect import val_outputs, val_pages
from models.dataset import Roots, list_pages
from models.latency import measure_latency
from models.multiexit import MultiExitLayoutLMv3
from models.ocr import TesseractEngine
from models.plan import EMBED, OCR_PAGE
from models.policies import (
    GlobalThreshold,
    Patience,
    PerExitThresholds,
    Policy,
    Similarity,
    describe,
    first_exit,
    heuristic_thresholds,
    vision_exits_to_run,
)
from models.runtime import Words
from models.threshold_search import search_per_exit
from models.traces import Trace, build_traces, trace_cost

log = logging.getLogger("docexit.operating_points")


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile: a cost some page really has, never one between paths."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def evaluate_policy(
    policy: Policy | None, traces: list[Trace], labels: list[int], latency: Latency
) -> OperatingPoint:
    """Accuracy, depth, OCR use and modelled seconds of one policy (None: full depth).

    Two depths: mean_exit_layer counts layers run in the answering stream (0: an embedding exit),
    as docexit_exit_layer does; mean_exit_index is the answering exit's position in the order the
    cascade meets exits (the checkpoint's exit list: vision exits, then text exits after OCR).
    Only the index orders points by how far a page got: emb.text_avg has layer 0 but comes after
    OCR and every vision exit."""
    if policy is None:
        return _full_depth(traces, labels, latency)
    n, plan = len(labels), traces[0].plan
    idx = [first_exit(policy, t.views) for t in traces]
    right = sum(t.views[i].prediction == y for t, i, y in zip(traces, idx, labels, strict=True))
    vision = [v.name for v in traces[0].views[: traces[0].vision]]
    run = len(vision_exits_to_run(policy, vision))
    costs = [trace_cost(t, i, latency, run) for t, i in zip(traces, idx, strict=True)]
    names = [t.views[i].name for t, i in zip(traces, idx, strict=True)]
    one_band = [t.vision <= i < t.vision + t.band for t, i in zip(traces, idx, strict=True)]
    return OperatingPoint(
        policy=PolicyCard.model_validate(describe(policy)),
        accuracy=right / n,
        mean_exit_layer=statistics.fmean(plan.layer(name) for name in names),
        mean_exit_index=statistics.fmean(plan.index(name) for name in names),
        ocr_skip_rate=sum(i < t.vision for t, i in zip(traces, idx, strict=True)) / n,
        top_band_only_rate=sum(one_band) / n if latency.banded else 0.0,
        encoder_s=statistics.fmean(c[0] for c in costs),
        ocr_s=statistics.fmean(c[1] for c in costs),
        end_to_end_s=statistics.fmean(c[2] for c in costs),
        # What a per-request deadline must pay: the mean of a mix of 20 ms vision answers and 2 s
        # OCR answers fits budgets that cut every OCR page short. Encoder and OCR apart: the
        # service re-scales each with its own live latencies.
        encoder_p90_s=p90([c[0] for c in costs]),
        ocr_p90_s=p90([c[1] for c in costs]),
    )


def _full_depth(traces: list[Trace], labels: list[int], latency: Latency) -> OperatingPoint:
    """No vision stream, whole-page OCR, straight to the final classifier: every page costs
    the same."""
    plan = traces[0].plan
    encoder = latency.stages[EMBED] + sum(latency.stages[e.name] for e in plan.layers)
    ocr = latency.ocr_stages[OCR_PAGE]
    right = sum(t.full.prediction == y for t, y in zip(traces, labels, strict=True))
    return OperatingPoint(
        policy=PolicyCard(name="full_depth"),
        accuracy=right / len(labels),
        mean_exit_layer=float(plan.final.layer),
        mean_exit_index=float(plan.index(plan.final.name)),
        ocr_skip_rate=0.0,
        top_band_only_rate=0.0,
        encoder_s=encoder,
        ocr_s=ocr,
        end_to_end_s=encoder + ocr,
        encoder_p90_s=encoder,
        ocr_p90_s=ocr,
    )


def sweep(
    traces: list[Trace],
    labels: list[int],
    latency: Latency,
    accuracy: dict[str, float],
    ece: dict[str, float],
    default: Policy | None = None,
) -> list[OperatingPoint]:
    """Full depth, then every policy over its knob; `default` (the card's policy) is one of them,
    so that the service and the dashboards find the point the card promises."""
    policies: list[Policy] = [
        GlobalThreshold(t) for t in (0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
    ]
    policies += [Patience(k) for k in (2, 3, 4)]
    policies += [Similarity(i, t) for i in (0.95, 0.98, 0.99, 0.995) for t in (0.95, 0.98, 0.99)]
    policies += [
        PerExitThresholds(heuristic_thresholds(accuracy, ece, eps)) for eps in (0.05, 0.2, 1.0)
    ]
    # Searched policies, from strict bounds to loose ones (cheaper, less accurate).
    policies += [
        PerExitThresholds(search_per_exit(traces, labels, latency, max_loss=h, max_harm=h))
        for h in (0.0025, 0.005, 0.01, 0.02, 0.05)
    ]
    if default is not None and describe(default) not in [describe(p) for p in policies]:
        policies.append(default)
    return [evaluate_policy(p, traces, labels, latency) for p in [None, *policies]]


@dataclass
class Validation:
    """Validation pages as the cascade meets them (models.traces), and every exit's accuracy on
    their whole-page and top-band words."""

    traces: list[Trace]
    labels: list[int]
    metrics: Metrics


def validation(
    model: MultiExitLayoutLMv3, card: Card, data: Roots, per_class: int | None
) -> Validation:
    band = card.ocr_band
    full = val_outputs(model, data, per_class)
    band_out = None if band is None else val_outputs(model, data, per_class, band)
    filled = (
        [False] * len(full.labels) if band is None else band_filled(model, data, per_class, band)
    )
    traces = build_traces(full, band_out, filled, card.temperatures, model.config.plan)
    metrics = Metrics(
        val_accuracy=full.accuracy(), val_top_band_accuracy=(band_out or full).accuracy()
    )
    return Validation(traces, full.labels.tolist(), metrics)


def band_filled(model: Any, data: Roots, per_class: int | None, band: float) -> list[bool]:
    """Per validation page: does its top band alone fill the model's text budget?"""
    pages = val_pages(model, data, per_class, band)
    limit = model.config.max_text_tokens
    return [len(pages[i].text.input_ids) >= limit for i in range(len(pages))]


def time_stages(
    model: MultiExitLayoutLMv3, band: float | None, data: Roots, n: int, pages_seen: int
) -> Latency:
    """Each stage timed on n validation pages, every (pages_seen // n)-th of the folders (spread
    over the classes), with real Tesseract."""
    engine = TesseractEngine()

    def ocr(image: Image.Image) -> Words:
        found = engine.recognize(image)
        return [w.text for w in found], [w.box for w in found]

    sample = [p for p, _ in list_pages(data)][:: max(1, pages_seen // n)][:n]
    return measure_latency(model, [Image.open(p) for p in sample], ocr, band)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m models.operating_points", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument(
        "--data", type=Path, nargs="+", required=True, help="validation folders (class folders)"
    )
    parser.add_argument("--per-class", type=int)
    parser.add_argument("--latency-pages", type=int, default=16, help="pages timed with real OCR")
    parser.add_argument(
        "--max-loss", type=float, default=0.0, help="default policy's net accuracy loss"
    )
    parser.add_argument(
        "--max-harm",
        type=float,
        default=0.02,
        help="default policy's share of pages it gets wrong that never exiting gets right",
    )
    parser.add_argument(
        "--latency-from-card",
        action="store_true",
        help="reuse the card's measured stage latencies instead of timing pages again",
    )
    parser.add_argument("--encoder-target", type=float, default=0.5)
    parser.add_argument("--end-to-end-target", type=float, default=0.6)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model, card = load_checkpoint(args.checkpoint)
    val = validation(model, card, args.data, args.per_class)
    if args.latency_from_card and card.latency is not None:
        latency = card.latency
    else:
        latency = time_stages(model, card.ocr_band, args.data, args.latency_pages, len(val.labels))
    targets = {"encoder_target": args.encoder_target, "end_to_end_target": args.end_to_end_target}
    default = PerExitThresholds(
        search_per_exit(
            val.traces,
            val.labels,
            latency,
            max_loss=args.max_loss,
            max_harm=args.max_harm,
            **targets,
        )
    )
    if card.calibration is None:
        raise CheckpointError(f"{args.checkpoint} has no calibration: run models.export first")
    after = {n: r.after for n, r in card.calibration.per_exit.items()}
    accuracy, ece = {n: a.accuracy for n, a in after.items()}, {n: a.ece for n, a in after.items()}
    points = sweep(val.traces, val.labels, latency, accuracy, ece, default)
    for p in points:
        log.info(
            "%-60s acc %.3f  layer %.2f  index %.2f  skip %.2f  band %.2f  e2e %.3f s",
            str(p.policy.spec())[:60],
            p.accuracy,
            p.mean_exit_layer,
            p.mean_exit_index,
            p.ocr_skip_rate,
            p.top_band_only_rate,
            p.end_to_end_s,
        )
    card.updated(
        latency=latency,
        operating_points=points,
        policy=describe(default),
        thresholds=default.taus,
        ocr_band=card.ocr_band,
        metrics=val.metrics,
        certification=None,  # it tested the old points: models.certify runs next
    ).write(args.checkpoint)


if __name__ == "__main__":
    main()
