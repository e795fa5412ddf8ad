"""Train the multi-exit model with the joint exit loss.

    python -m models.train --config configs/default.toml [--out DIR] [--max-steps N]

Deterministic (seeded shuffles, per-epoch OCR/clean choice) and resumable: a snapshot of model,
optimizer, scheduler and position is written every `save_every` steps to OUT/last.pt and picked up
by the next run with the same --out. Writes OUT/model.safetensors and OUT/train.json at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from models.data.labels import CLASSES
from models.dataset import PageDataset, Repeated, list_pages, model_pages
from models.image_stem import imagenet_state, load_imagenet
from models.losses import exit_weights
from models.multiexit import MultiExitConfig, MultiExitLayoutLMv3
from models.pretrained import WORD_EMBEDDINGS, init_image_embeddings, minilm_state_dict
from models.trainer import Steps, TrainConfig, Trainer, make_optimizer, make_scheduler

log = logging.getLogger("docexit.train")


def build_model(cfg: TrainConfig) -> tuple[MultiExitLayoutLMv3, set[str]]:
    """The model, and the names of its parameters that start from scratch (no MiniLM weights):
    they learn at the head learning rate."""
    model = MultiExitLayoutLMv3(MultiExitConfig(**cfg.model))
    fresh = {n for n, _ in model.named_parameters() if n.startswith("heads.")}
    if cfg.opt("init", "minilm") == "minilm":
        missing, unexpected = model.load_state_dict(
            minilm_state_dict(model.config.max_position_embeddings), strict=False
        )
        assert not unexpected, unexpected
        fresh |= set(missing)
        init_image_embeddings(model.backbone)
    trunk = model.image_trunk()
    if trunk is not None:  # ImageNet features; the 1x1 conv to d is ours
        load_imagenet(trunk, imagenet_state())
        fresh -= {f"backbone.patch_embed.proj.{n}" for n, _ in trunk.named_parameters()}
        fresh |= {f"backbone.patch_embed.proj.out.{n}" for n, _ in trunk.out.named_parameters()}
        if cfg.opt("freeze_image_stem", False):
            # ImageNet features as they are: rendered pages cannot teach them generator-only
            # cues, and no gradient through the trunk makes a CPU step several times cheaper.
            for part in (trunk.stem, trunk.blocks):
                part.requires_grad_(False)
    if cfg.opt("freeze_word_embeddings", True):
        dict(model.named_parameters())[WORD_EMBEDDINGS].requires_grad_(False)
    return model, fresh


def params_up_to(model: MultiExitLayoutLMv3) -> dict[str, float]:
    """Parameters on the path to each exit (the "cost" loss scheme's cost)."""
    bb = model.backbone
    emb = sum(p.numel() for n, p in bb.named_parameters() if not n.startswith("encoder."))
    layer = sum(p.numel() for p in bb.encoder.layer[0].parameters())
    out = {}
    for name in model.config.exit_names():
        stage, _, where = name.partition(".")
        out[name] = float(emb + (0 if stage == "emb" else int(where) * layer))
    return out


def training_pages(cfg: TrainConfig, mc: MultiExitConfig) -> Repeated:
    """The corpus' train split, plus real pages (`[data] real`: folders of class folders whose
    pages carry stored OCR only). Real pages repeat per class, towards `real_per_class` pages an
    epoch and at most `real_repeat` times: the classes real documents are easy to find in (manuals,
    reports) must not drown the rare ones."""
    d = cfg.data

    def pages(root: Path, **kw: Any) -> PageDataset:
        return model_pages(root, mc, band_mix=d.get("band_mix", 0.0), seed=cfg.seed, **kw)

    corpus = pages(
        Path(d.get("root", "data/synth")) / "train",
        ocr_mix=d.get("ocr_mix", 0.0),
        per_class=d.get("train_per_class"),
    )
    most, target = int(d.get("real_repeat", 1)), int(d.get("real_per_class", 0))
    real = []
    for root in map(Path, d.get("real", [])):
        present = {CLASSES[label] for _, label in list_pages(root)}
        for label in (c for c in CLASSES if c in present):  # one part per class, class order
            part = pages(root, ocr_mix=1.0, labels=[label])
            real.append((part, max(1, min(most, round(target / len(part))) if target else most)))
    return Repeated([(corpus, 1), *real])


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(
    cfg: TrainConfig, out: Path, max_steps: int | None = None, progress: bool = True
) -> dict[str, Any]:
    """Train (or continue training) into `out`; writes model.safetensors and train.json there and
    returns what train.json holds. The order below is the order of random draws: keep it."""
    # Seeded first: the model's random initialisation is part of what a seed reproduces.
    _seed_all(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    model, fresh = build_model(cfg)
    mc = model.config
    train_set = training_pages(cfg, mc)
    val_root = Path(cfg.data.get("root", "data/synth")) / "val"
    val_set = model_pages(val_root, mc, per_class=cfg.data.get("val_per_class"), seed=cfg.seed)
    steps = Steps.plan(cfg, len(train_set), max_steps)
    optim = make_optimizer(cfg, model, fresh)
    sched = make_scheduler(optim, steps.total, float(cfg.opt("warmup", 0.06)))
    scheme = cfg.opt("loss", "weighted")
    weights = exit_weights(
        mc.exit_names(), mc.final_exit, float(cfg.opt("gamma", 0.7)), scheme, params_up_to(model)
    )
    trainer = Trainer(
        model=model,
        optim=optim,
        sched=sched,
        steps=steps,
        train_set=train_set,
        val_set=val_set,
        weights=weights,
        scheme=scheme,
        seed=cfg.seed,
        snapshot=out / "last.pt",
        save_every=int(cfg.opt("save_every", 50)),
    )
    trainer.resume()
    trainer.run(progress)
    seconds = trainer.seconds()
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "model.safetensors")
    )
    summary = train_summary(cfg, trainer, seconds)
    (out / "train.json").write_text(json.dumps(summary, indent=2))
    return summary


def train_summary(cfg: TrainConfig, trainer: Trainer, seconds: float) -> dict[str, Any]:
    """What OUT/train.json records: the full config, what the run trained on, and its history."""
    return {
        "config": {
            "seed": cfg.seed,
            "data": cfg.data,
            "model": trainer.model.config.to_dict(),
            "train": cfg.train,
        },
        "steps": trainer.step,
        "train_pages": len(trainer.train_set),
        "train_parts": [
            {"root": str(part.root), "label": label, "pages": len(part), "repeat": times}
            for part, times in trainer.train_set.parts
            for label in [part.labels[0] if len(part.labels) == 1 else "all"]
        ],
        "val_pages": len(trainer.val_set),
        "seconds": round(seconds, 1),
        "history": trainer.history,
        "loss_weights": trainer.weights,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m models.train", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="run folder (default: the config's `out`)")
    parser.add_argument("--max-steps", type=int, help="stop after this many steps (smoke runs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    cfg = TrainConfig.load(args.config)
    summary = train(cfg, args.out or Path(cfg.out), args.max_steps)
    log.info("trained %d steps in %.0f s", summary["steps"], summary["seconds"])


if __name__ == "__main__":
    main()
