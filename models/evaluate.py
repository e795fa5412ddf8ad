"""Evaluate a checkpoint on a folder of class folders of page images, for real.

    python -m models.evaluate --checkpoint DIR --data DIR [--ocr tesseract] [--per-class N] [--json]

Per page, in one run: the full-depth pipeline (whole-page OCR + every multimodal layer), the
early-exit cascade with the checkpoint's default policy (vision layers; then, only if no vision
exit accepts, OCR of the page's top band and multimodal layers on its words; the whole page only
if still undecided: models.runtime.Cascade, every OCR call real and timed), and every exit's
calibrated output on the whole-page words, for per-exit accuracy and ECE.
With --json the last line is one JSON object: n, full_depth.accuracy,
early_exit.{accuracy, mean_exit_layer, ocr_skip_rate}, encoder_time_ratio and
end_to_end_time_ratio (wall clock, early / full)."""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from tqdm import tqdm

from models.calibration import ece
from models.card import Card
from models.checkpoint import load_checkpoint
from models.dataset import list_pages
from models.inputs import encode_words, image_tensor
from models.multiexit import MultiExitLayoutLMv3
from models.ocr import ENGINES, OcrEngine, make_engine
from models.page_report import answer_ece, class_report, markdown
from models.policies import GlobalThreshold, Policy
from models.runtime import Cascade, Prediction, Words

log = logging.getLogger("docexit.evaluate")


@dataclass
class Row:
    """One page: its label, the answers of both pipelines, and what each spent on it."""

    page: str
    label: int
    full: int  # the full-depth answer
    early: int  # the early-exit cascade's answer
    early_probs: list[float]  # the cascade's calibrated probabilities
    exit: str  # the exit that answered, e.g. "vision.2"
    layer: int  # encoder layers run in the answering stream
    ocr_skipped: bool
    ocr_bands: int
    early_ocr_s: float
    full_ocr_s: float
    full_encoder_s: float
    early_encoder_s: float
    full_e2e_s: float
    early_e2e_s: float  # the cascade's own OCR calls included

    @classmethod
    def of(cls, page: Path, label: int, full: Prediction, early: Prediction, ocr_s: float) -> Row:
        """`full` read the words of one whole-page OCR call that took `ocr_s`; `early` made and
        timed its own OCR calls."""
        return cls(
            page=str(page),
            label=label,
            full=full.label,
            early=early.label,
            early_probs=early.probs,
            exit=early.exit,
            layer=early.layer,
            ocr_skipped=early.ocr_skipped,
            ocr_bands=early.ocr_bands,
            early_ocr_s=early.timings["ocr"],
            full_ocr_s=ocr_s,
            full_encoder_s=full.encoder_seconds,
            early_encoder_s=early.encoder_seconds,
            full_e2e_s=ocr_s + full.timings["total"],
            early_e2e_s=early.timings["total"],
        )


@dataclass
class Pipelines:
    """A checkpoint ready to run both ways: the cascade (with the card's default policy, which
    is full depth when the card certifies no point, or a global threshold of 0.9 on a card that
    is neither certified nor names a policy) and the OCR engine both pipelines share."""

    model: MultiExitLayoutLMv3
    card: Card
    cascade: Cascade
    policy: Policy | None
    engine: OcrEngine

    @classmethod
    def load(cls, checkpoint: Path, ocr_engine: str) -> Pipelines:
        model, card = load_checkpoint(checkpoint)
        cascade = Cascade.from_card(model, card)
        default = card.default_policy()
        policy = None if default is None else default.build()
        if card.certification is None and policy is None:
            policy = GlobalThreshold(0.9)
        return cls(model, card, cascade, policy, make_engine(ocr_engine))

    def ocr(self, image: Image.Image) -> Words:
        """The cascade's OCR: every call real, so that its timings count what skipping saves."""
        found = self.engine.recognize(image)
        return [w.text for w in found], [w.box for w in found]

    def run_page(self, png: Path, label: int) -> tuple[Row, dict[str, torch.Tensor]]:
        """One page through both pipelines; its row, and every exit's calibrated probabilities."""
        image = Image.open(png)
        image.load()
        # Full depth reads the whole page's words up front: one OCR call, timed here.
        t = time.perf_counter()
        found = self.engine.recognize(image)
        ocr_s = time.perf_counter() - t
        words = ([w.text for w in found], [w.box for w in found])
        full = self.cascade.classify(image, words=words, policy=None)
        early = self.cascade.classify(image, ocr=self.ocr, policy=self.policy)
        return Row.of(png, label, full, early, ocr_s), self.exit_probs(image, words)

    def exit_probs(self, image: Image.Image, words: Words) -> dict[str, torch.Tensor]:
        """Every exit's output on the whole-page words, calibrated with the card's temperatures:
        per-exit accuracy and ECE, whatever the policy would have stopped at."""
        c = self.model.config
        with torch.inference_mode():
            text = encode_words(words[0], words[1], image.size, c.max_text_tokens, c.page_fit)
            out = self.model(
                image_tensor(image, c.image_size, c.pixels, c.page_fit)[None],
                text.input_ids[None],
                text.bbox[None],
                text.attention_mask[None],
            )
        temperatures = self.cascade.temperatures
        return {
            name: torch.softmax(step.logits[0] / temperatures.get(name, 1.0), -1)
            for name, step in out.steps.items()
        }


def evaluate(
    checkpoint: Path,
    data: Path,
    ocr_engine: str = "tesseract",
    per_class: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Every page of `data` (at most `per_class` a class) through both pipelines: the result
    that --json prints, aggregated over the pages."""
    pipelines = Pipelines.load(checkpoint, ocr_engine)
    pages = list_pages(data, per_class)
    rows: list[Row] = []
    exit_probs: dict[str, list[torch.Tensor]] = {}
    for png, label in tqdm(pages, desc="evaluate", unit="page", disable=not progress):
        row, probs = pipelines.run_page(png, label)
        rows.append(row)
        for name, p in probs.items():
            exit_probs.setdefault(name, []).append(p)
    labels = torch.tensor([r.label for r in rows])
    return {
        "n": len(rows),
        "data": str(data),
        "checkpoint": str(checkpoint),
        "policy": None if (default := pipelines.card.default_policy()) is None else default.spec(),
        "per_exit": per_exit_report(exit_probs, labels),
        "full_depth": full_depth_report(rows),
        "early_exit": early_exit_report(rows),
        **time_ratios(rows),
        "classes": {
            "full_depth": class_report([r.label for r in rows], [r.full for r in rows]),
            "early_exit": class_report([r.label for r in rows], [r.early for r in rows]),
        },
        "early_exit_answer_ece": answer_ece([r.early_probs for r in rows], labels.tolist()),
    }


def per_exit_report(
    exit_probs: dict[str, list[torch.Tensor]], labels: torch.Tensor
) -> dict[str, dict[str, float]]:
    """Each exit's accuracy and ECE over the pages, in the model's exit order."""
    report = {}
    for name, probs in exit_probs.items():
        p = torch.stack(probs)
        report[name] = {
            "accuracy": float((p.argmax(-1) == labels).float().mean()),
            "ece": ece(p, labels),
        }
    return report


def full_depth_report(rows: list[Row]) -> dict[str, float]:
    n = len(rows)
    return {
        "accuracy": sum(r.full == r.label for r in rows) / n,
        "mean_encoder_s": sum(r.full_encoder_s for r in rows) / n,
        "mean_end_to_end_s": sum(r.full_e2e_s for r in rows) / n,
        "mean_ocr_s": sum(r.full_ocr_s for r in rows) / n,
    }


def early_exit_report(rows: list[Row]) -> dict[str, Any]:
    """Accuracy, depth, how often OCR was skipped or stopped at the top band, and timings."""
    n = len(rows)
    return {
        "accuracy": sum(r.early == r.label for r in rows) / n,
        "mean_exit_layer": statistics.fmean(r.layer for r in rows),
        "ocr_skip_rate": sum(r.ocr_skipped for r in rows) / n,
        "top_band_only_rate": sum(r.ocr_bands == 1 for r in rows) / n,
        "mean_ocr_s": sum(r.early_ocr_s for r in rows) / n,
        "mean_encoder_s": sum(r.early_encoder_s for r in rows) / n,
        "mean_end_to_end_s": sum(r.early_e2e_s for r in rows) / n,
        "exits": {e: sum(r.exit == e for r in rows) for e in sorted({r.exit for r in rows})},
    }


def time_ratios(rows: list[Row]) -> dict[str, float]:
    """Early-exit time over full-depth time, totals over all pages: the encoder alone, and end
    to end (wall clock, OCR included)."""
    return {
        "encoder_time_ratio": sum(r.early_encoder_s for r in rows)
        / sum(r.full_encoder_s for r in rows),
        "end_to_end_time_ratio": sum(r.early_e2e_s for r in rows) / sum(r.full_e2e_s for r in rows),
    }


def render(result: dict[str, Any]) -> str:
    lines = [f"pages: {result['n']}  ({result['data']})", "exit               accuracy   ECE"]
    lines += [
        f"  {name:<16} {v['accuracy']:.3f}    {v['ece']:.4f}"
        for name, v in result["per_exit"].items()
    ]
    f, e = result["full_depth"], result["early_exit"]
    lines += [
        f"full depth:  accuracy {f['accuracy']:.3f}  encoder {1000 * f['mean_encoder_s']:.1f} ms  "
        f"end-to-end {1000 * f['mean_end_to_end_s']:.0f} ms",
        f"early exit:  accuracy {e['accuracy']:.3f}  encoder {1000 * e['mean_encoder_s']:.1f} ms  "
        f"end-to-end {1000 * e['mean_end_to_end_s']:.0f} ms  "
        f"mean exit layer {e['mean_exit_layer']:.2f}  OCR skipped {100 * e['ocr_skip_rate']:.1f}%"
        f"  top band only {100 * e['top_band_only_rate']:.1f}%",
        f"OCR per page: full depth {1000 * f['mean_ocr_s']:.0f} ms, "
        f"early exit {1000 * e['mean_ocr_s']:.0f} ms",
        f"policy: {result['policy']}",
        f"encoder time ratio {result['encoder_time_ratio']:.3f}  "
        f"end-to-end time ratio {result['end_to_end_time_ratio']:.3f}",
        f"ECE of the default policy's answers {result['early_exit_answer_ece']:.4f}",
        "",
        markdown(result["classes"]["full_depth"], result["classes"]["early_exit"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.evaluate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument(
        "--data", type=Path, required=True, help="folder of class folders of page images"
    )
    parser.add_argument("--ocr", default="tesseract", choices=sorted(ENGINES))
    parser.add_argument("--per-class", type=int)
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = evaluate(args.checkpoint, args.data, args.ocr, args.per_class)
    sys.stdout.write(render(result) + "\n")
    if args.json:
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
