"""Operating points: every policy over a sweep of its knob, on validation pages, with the
measured latency of each stage; the table the service turns a latency budget into thresholds with.

    python -m models.operating_points --checkpoint models/checkpoints/default --data data/synth/val

Decisions are taken by the same pure policy functions the service runs, over the exits' recorded
outputs; latency per stage (OCR, each vision layer, each multimodal layer) is measured on this
machine with real OCR and real layer-by-layer runs, and a point's latency is what its exit mix
costs in those measured stage times."""

from __future__ import annotations

import argparse
import itertools
import logging
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from models.calibrate import val_outputs
from models.checkpoint import load_checkpoint, update_card
from models.collect import ExitOutputs
from models.data.ocr import TesseractEngine
from models.dataset import list_pages
from models.inputs import encode_words, image_tensor
from models.multiexit import MultiExitLayoutLMv3
from models.policies import (
    GlobalThreshold,
    Patience,
    PerExitThresholds,
    Policy,
    Similarity,
    StepView,
    describe,
    first_exit,
    heuristic_thresholds,
)
from models.runtime import Words

log = logging.getLogger("docexit.operating_points")


def page_views(
    outputs: ExitOutputs, temps: dict[str, float], order: Sequence[str]
) -> list[list[StepView]]:
    """Per page, the exits in the order a request meets them, as the policies see them."""
    probs = {n: torch.softmax(outputs.logits[n] / temps.get(n, 1.0), -1) for n in order}
    gates = {n: torch.sigmoid(g) for n, g in outputs.gates.items()}
    pages = []
    for i in range(len(outputs.labels)):
        pages.append(
            [
                StepView(
                    n,
                    tuple(probs[n][i].tolist()),
                    _at(gates, n, i),
                    _at(outputs.image_similarity, n, i),
                    _at(outputs.text_similarity, n, i),
                )
                for n in order
            ]
        )
    return pages


def _at(values: dict[str, torch.Tensor], name: str, i: int) -> float | None:
    return float(values[name][i]) if name in values else None


def measure_latency(
    model: MultiExitLayoutLMv3,
    images: Sequence[Image.Image],
    words: Sequence[Words],
    ocr_seconds: Sequence[float],
) -> dict[str, Any]:
    """Seconds per stage, averaged over pages: embed, each vision exit, each multimodal exit."""
    c = model.config
    stage: dict[str, list[float]] = {}
    with torch.inference_mode():
        for image, (texts, boxes) in zip(images, words, strict=True):
            t = time.perf_counter()
            tokens = model.embed_image(image_tensor(image, c.image_size).unsqueeze(0))
            stage.setdefault("embed", []).append(time.perf_counter() - t)
            t = time.perf_counter()
            for step in model.vision_steps(tokens):
                now = time.perf_counter()
                stage.setdefault(step.name, []).append(now - t)
                t = now
            text = encode_words(texts, boxes, image.size, c.max_text_tokens)
            t = time.perf_counter()
            state, first = model.start_multimodal(
                tokens, text.input_ids[None], text.bbox[None], text.attention_mask[None]
            )
            # Lazily: each layer runs only when the loop asks for its exit, so it is timed alone.
            for step in itertools.chain(first, model.multimodal_steps(state, text.bbox[None])):
                now = time.perf_counter()
                stage.setdefault(step.name, []).append(now - t)
                t = now
    means = {k: statistics.fmean(v) for k, v in stage.items()}
    return {
        "ocr": statistics.fmean(ocr_seconds),
        "stages": means,
        "pages": len(images),
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
    }


def page_cost(
    exit_index: int, order: Sequence[str], latency: dict[str, Any]
) -> tuple[float, float]:
    """(encoder seconds, end-to-end seconds) of a page that answers at order[exit_index]."""
    stages = latency["stages"]
    ran = order[: exit_index + 1]
    encoder = stages["embed"] + sum(stages[n] for n in ran)
    skipped = all(StepView(n, ()).stage == "vision" for n in ran)
    return encoder, encoder + (0.0 if skipped else latency["ocr"])


def evaluate_policy(
    policy: Policy | None,
    pages: list[list[StepView]],
    labels: list[int],
    latency: dict[str, Any],
    final: str,
) -> dict[str, Any]:
    order = [s.name for s in pages[0]]
    if policy is None:  # full depth: no vision stream, straight to the final classifier
        mm = [
            n for n in order if StepView(n, ()).stage == "multimodal" and not n.startswith("emb.")
        ]
        encoder = latency["stages"]["embed"] + sum(latency["stages"][n] for n in mm)
        right = sum(
            p[order.index(final)].prediction == y for p, y in zip(pages, labels, strict=True)
        )
        return {
            "accuracy": right / len(labels),
            "mean_exit_layer": float(int(final.split(".")[1])),
            "ocr_skip_rate": 0.0,
            "encoder_s": encoder,
            "end_to_end_s": encoder + latency["ocr"],
        }
    idx = [first_exit(policy, p) for p in pages]
    right = sum(p[i].prediction == y for p, i, y in zip(pages, idx, labels, strict=True))
    costs = [page_cost(i, order, latency) for i in idx]
    layers = [int(w) if (w := order[i].split(".")[1]).isdigit() else 0 for i in idx]
    return {
        "accuracy": right / len(labels),
        "mean_exit_layer": statistics.fmean(layers),
        "ocr_skip_rate": sum(StepView(order[i], ()).stage == "vision" for i in idx) / len(idx),
        "encoder_s": statistics.fmean(c[0] for c in costs),
        "end_to_end_s": statistics.fmean(c[1] for c in costs),
    }


def search_per_exit(
    pages: list[list[StepView]],
    labels: list[int],
    target: float,
    grid: Sequence[float] = (
        0.5,
        0.6,
        0.7,
        0.8,
        0.85,
        0.9,
        0.93,
        0.95,
        0.97,
        0.98,
        0.99,
        0.995,
        0.999,
    ),
) -> dict[str, float]:
    """Greedy, earliest exit first: give each exit the lowest threshold that keeps validation
    accuracy within `target` of full depth (earlier exits save the most, OCR included)."""
    order = [s.name for s in pages[0]]
    final_acc = sum(p[-1].prediction == y for p, y in zip(pages, labels, strict=True)) / len(labels)
    taus: dict[str, float] = {}
    for name in order[:-1]:
        for tau in grid:
            trial = PerExitThresholds({**taus, name: tau})
            idx = [first_exit(trial, p) for p in pages]
            acc = sum(
                p[i].prediction == y for p, i, y in zip(pages, idx, labels, strict=True)
            ) / len(labels)
            if acc >= final_acc - target:
                taus[name] = tau
                break
    return taus


def sweep(
    pages: list[list[StepView]],
    labels: list[int],
    latency: dict[str, Any],
    final: str,
    accuracy: dict[str, float],
    ece: dict[str, float],
) -> list[dict[str, Any]]:
    policies: list[Policy] = [
        GlobalThreshold(t) for t in (0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)
    ]
    policies += [Patience(k) for k in (2, 3, 4)]
    policies += [Similarity(i, t) for i in (0.95, 0.98, 0.99, 0.995) for t in (0.95, 0.98, 0.99)]
    policies += [
        PerExitThresholds(heuristic_thresholds(accuracy, ece, eps)) for eps in (0.05, 0.2, 1.0)
    ]
    policies += [
        PerExitThresholds(search_per_exit(pages, labels, t)) for t in (0.0, 0.005, 0.01, 0.02, 0.05)
    ]
    points = [
        {"policy": {"name": "full_depth"}, **evaluate_policy(None, pages, labels, latency, final)}
    ]
    points += [
        {"policy": describe(p), **evaluate_policy(p, pages, labels, latency, final)}
        for p in policies
    ]
    return points


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.operating_points", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help="validation split")
    parser.add_argument("--per-class", type=int)
    parser.add_argument("--latency-pages", type=int, default=16, help="pages timed with real OCR")
    parser.add_argument(
        "--target-loss", type=float, default=0.005, help="default policy's accuracy loss"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model, card = load_checkpoint(args.checkpoint)
    temps = card["temperatures"]
    outputs = val_outputs(model, args.data, args.per_class)
    order = model.config.exit_names()
    pages, labels = page_views(outputs, temps, order), outputs.labels.tolist()
    engine = TesseractEngine()
    sample = [p for p, _ in list_pages(args.data)][:: max(1, len(labels) // args.latency_pages)][
        : args.latency_pages
    ]
    images = [Image.open(p) for p in sample]
    words, ocr_s = [], []
    for image in images:
        t = time.perf_counter()
        found = engine.recognize(image)
        ocr_s.append(time.perf_counter() - t)
        words.append(([w.text for w in found], [w.box for w in found]))
    latency = measure_latency(model, images, words, ocr_s)
    report = card["calibration"]["per_exit"]
    points = sweep(
        pages,
        labels,
        latency,
        model.config.final_exit,
        {n: r["after"]["accuracy"] for n, r in report.items()},
        {n: r["after"]["ece"] for n, r in report.items()},
    )
    default = PerExitThresholds(search_per_exit(pages, labels, args.target_loss))
    for p in points:
        log.info(
            "%-60s acc %.3f  layer %.2f  skip %.2f  e2e %.3f s",
            str(p["policy"])[:60],
            p["accuracy"],
            p["mean_exit_layer"],
            p["ocr_skip_rate"],
            p["end_to_end_s"],
        )
    update_card(
        args.checkpoint,
        latency=latency,
        operating_points=points,
        policy=describe(default),
        thresholds=default.taus,
        metrics={"val_accuracy": outputs.accuracy()},
    )


if __name__ == "__main__":
    main()
