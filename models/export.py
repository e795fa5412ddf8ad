"""Export a training run as a checkpoint: weights and card, one temperature per exit fitted on
validation pages.

    python -m models.export --run runs/default --data data/synth/val \
        --out models/checkpoints/default

Loads the trained run (OUT/model.safetensors + train.json), collects every exit's logits on the
validation pages (through stored OCR text where present: that is what the service will see),
fits temperatures by NLL, reports ECE, NLL and Brier per exit before and after, and writes the
checkpoint folder (weights + card)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from safetensors.torch import load_file

from models.calibration import calibrate
from models.card import Calibration
from models.checkpoint import load_checkpoint, save_checkpoint
from models.collect import val_outputs
from models.multiexit import MultiExitConfig, MultiExitLayoutLMv3
from models.pretrained import minilm_state_dict

log = logging.getLogger("docexit.export")
VERSION = "0.1.0"


def load_run(run: Path) -> tuple[MultiExitLayoutLMv3, dict[str, Any]]:
    summary = json.loads((run / "train.json").read_text())
    config = MultiExitConfig.from_dict(summary["config"]["model"])
    model = MultiExitLayoutLMv3(config)
    state = load_file(str(run / "model.safetensors"))
    if "backbone.embeddings.word_embeddings.weight" not in state:  # frozen: from the package
        state.update(minilm_state_dict(config.max_position_embeddings))
    model.load_state_dict(state)
    return model.eval(), summary


def mean_ece(report: dict[str, dict[str, dict[str, float]]], when: str) -> float:
    return sum(r[when]["ece"] for r in report.values()) / len(report)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.export", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--run", type=Path, required=True, help="training run folder")
    parser.add_argument(
        "--data", type=Path, nargs="+", required=True, help="validation folders (class folders)"
    )
    parser.add_argument("--out", type=Path, required=True, help="checkpoint folder to write")
    parser.add_argument("--per-class", type=int, help="validation pages per class (default: all)")
    parser.add_argument("--name", default="docexit-minilm-multiexit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model, summary = load_run(args.run)
    training = {k: summary[k] for k in ("steps", "train_pages", "val_pages", "seconds", "history")}
    training |= {"data": summary["config"]["data"], "train": summary["config"]["train"]}
    training |= {k: summary[k] for k in ("train_parts",) if k in summary}
    save_checkpoint(model, args.out, name=args.name, version=VERSION, training=training)
    model, card = load_checkpoint(args.out)  # calibrate the weights as shipped (int8 storage)
    outputs = val_outputs(model, args.data, args.per_class)
    temps, report = calibrate(outputs.logits, outputs.labels)
    for name, r in report.items():
        b, a = r["before"], r["after"]
        log.info(
            "%-16s T=%.2f  acc %.3f  ECE %.4f -> %.4f  NLL %.3f -> %.3f  Brier %.3f -> %.3f",
            name,
            temps[name],
            b["accuracy"],
            b["ece"],
            a["ece"],
            b["nll"],
            a["nll"],
            b["brier"],
            a["brier"],
        )
    before, after = mean_ece(report, "before"), mean_ece(report, "after")
    log.info(
        "mean ECE over exits %.4f -> %.4f (%.0f%% lower)", before, after, 100 * (1 - after / before)
    )
    calibration = Calibration.model_validate(
        {
            "data": [str(d) for d in args.data],
            "pages": len(outputs.labels),
            "per_exit": report,
            "mean_ece_before": before,
            "mean_ece_after": after,
        }
    )
    card.updated(temperatures=temps, calibration=calibration).write(args.out)
    log.info("checkpoint written to %s", args.out)


if __name__ == "__main__":
    main()
