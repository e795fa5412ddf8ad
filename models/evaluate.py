"""Evaluate a checkpoint on a folder of class folders of page images, for real.

    python -m models.evaluate --checkpoint DIR --data DIR [--ocr tesseract] [--per-class N] [--json]

Per page, in one run: the full-depth pipeline (whole-page OCR + every multimodal layer), the
early-exit cascade with the checkpoint's default policy (vision layers; then, only if no vision
exit accepts, OCR of the page's top band and multimodal layers on its words; the rest of the page
only if still undecided: models.runtime.Cascade, every OCR call real and timed), and every exit's
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
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from tqdm import tqdm

from models.calibration import ece
from models.checkpoint import load_checkpoint
from models.data.ocr import ENGINES, make_engine
from models.dataset import list_pages
from models.inputs import encode_words, image_tensor
from models.page_report import answer_ece, class_report, markdown
from models.policies import make_policy
from models.runtime import Cascade, Words

log = logging.getLogger("docexit.evaluate")


def evaluate(
    checkpoint: Path,
    data: Path,
    ocr_engine: str = "tesseract",
    per_class: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    model, card = load_checkpoint(checkpoint)
    cascade = Cascade(model, card)
    policy_card = dict(card.get("policy") or {"name": "global", "tau": 0.9})
    policy = make_policy(policy_card.pop("name"), policy_card)
    engine = make_engine(ocr_engine)

    def ocr(image: Image.Image) -> Words:
        found = engine.recognize(image)
        return [w.text for w in found], [w.box for w in found]

    pages = list_pages(data, per_class)
    c = model.config
    rows: list[dict[str, Any]] = []
    exit_probs: dict[str, list[torch.Tensor]] = {}
    for png, label in tqdm(pages, desc="evaluate", unit="page", disable=not progress):
        image = Image.open(png)
        image.load()
        t = time.perf_counter()
        found = engine.recognize(image)
        ocr_s = time.perf_counter() - t
        words = ([w.text for w in found], [w.box for w in found])
        full = cascade.classify(image, words=words, policy=None)
        early = cascade.classify(image, ocr=ocr, policy=policy)
        rows.append(
            {
                "page": str(png),
                "label": label,
                "full": full.label,
                "early": early.label,
                "early_probs": early.probs,
                "exit": early.exit,
                "layer": early.layer,
                "ocr_skipped": early.ocr_skipped,
                "ocr_bands": early.ocr_bands,
                "early_ocr_s": early.timings["ocr"],
                "full_ocr_s": ocr_s,
                "full_encoder_s": full.encoder_seconds,
                "early_encoder_s": early.encoder_seconds,
                "full_e2e_s": ocr_s + full.timings["total"],
                "early_e2e_s": early.timings["total"],  # its own OCR calls included
            }
        )
        with torch.inference_mode():  # every exit, for per-exit accuracy and calibration
            text = encode_words(words[0], words[1], image.size, c.max_text_tokens, c.page_fit)
            out = model(
                image_tensor(image, c.image_size, c.pixels, c.page_fit)[None],
                text.input_ids[None],
                text.bbox[None],
                text.attention_mask[None],
            )
        for name, step in out.steps.items():
            exit_probs.setdefault(name, []).append(
                torch.softmax(step.logits[0] / cascade.temperatures.get(name, 1.0), -1)
            )
    labels = torch.tensor([r["label"] for r in rows])
    per_exit = {}
    for name, probs in exit_probs.items():
        p = torch.stack(probs)
        per_exit[name] = {
            "accuracy": float((p.argmax(-1) == labels).float().mean()),
            "ece": ece(p, labels),
        }
    n = len(rows)

    def total(key: str) -> float:
        return sum(r[key] for r in rows)

    return {
        "n": n,
        "data": str(data),
        "checkpoint": str(checkpoint),
        "policy": card.get("policy"),
        "per_exit": per_exit,
        "full_depth": {
            "accuracy": sum(r["full"] == r["label"] for r in rows) / n,
            "mean_encoder_s": total("full_encoder_s") / n,
            "mean_end_to_end_s": total("full_e2e_s") / n,
            "mean_ocr_s": total("full_ocr_s") / n,
        },
        "early_exit": {
            "accuracy": sum(r["early"] == r["label"] for r in rows) / n,
            "mean_exit_layer": statistics.fmean(r["layer"] for r in rows),
            "ocr_skip_rate": sum(r["ocr_skipped"] for r in rows) / n,
            "top_band_only_rate": sum(r["ocr_bands"] == 1 for r in rows) / n,
            "mean_ocr_s": total("early_ocr_s") / n,
            "mean_encoder_s": total("early_encoder_s") / n,
            "mean_end_to_end_s": total("early_e2e_s") / n,
            "exits": {
                e: sum(r["exit"] == e for r in rows) for e in sorted({r["exit"] for r in rows})
            },
        },
        "encoder_time_ratio": total("early_encoder_s") / total("full_encoder_s"),
        "end_to_end_time_ratio": total("early_e2e_s") / total("full_e2e_s"),
        "classes": {
            "full_depth": class_report([r["label"] for r in rows], [r["full"] for r in rows]),
            "early_exit": class_report([r["label"] for r in rows], [r["early"] for r in rows]),
        },
        "early_exit_answer_ece": answer_ece([r["early_probs"] for r in rows], labels.tolist()),
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
