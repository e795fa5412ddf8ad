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
import math
import random
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from tqdm import tqdm

from models.collect import collect
from models.data.labels import CLASSES
from models.dataset import PageDataset, Repeated, collate, list_pages, model_pages
from models.image_stem import imagenet_state, load_imagenet
from models.losses import exit_weights, joint_loss
from models.multiexit import MultiExitConfig, MultiExitLayoutLMv3
from models.pretrained import WORD_EMBEDDINGS, init_image_embeddings, minilm_state_dict

log = logging.getLogger("docexit.train")


@dataclass
class TrainConfig:
    seed: int = 0
    out: str = "runs/default"
    data: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> TrainConfig:
        raw = tomllib.loads(path.read_text())
        unknown = set(raw) - {"seed", "out", "data", "model", "train"}
        if unknown:
            raise ValueError(f"{path}: unknown sections {sorted(unknown)}")
        return cls(**raw)

    def opt(self, key: str, default: Any) -> Any:
        return self.train.get(key, default)


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
    _seed_all(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    model, fresh = build_model(cfg)
    mc = model.config
    d = cfg.data
    root = Path(d.get("root", "data/synth"))
    train_set = training_pages(cfg, mc)
    val_set = model_pages(root / "val", mc, per_class=d.get("val_per_class"), seed=cfg.seed)
    bs, epochs = int(cfg.opt("batch_size", 16)), int(cfg.opt("epochs", 3))
    per_epoch = math.ceil(len(train_set) / bs)
    total = per_epoch * epochs  # the schedule's length; --max-steps only stops early
    stop = total if max_steps is None else min(max_steps, total)
    heads = [p for n, p in model.named_parameters() if n in fresh and p.requires_grad]
    body = [p for n, p in model.named_parameters() if n not in fresh and p.requires_grad]
    wd = float(cfg.opt("weight_decay", 0.01))
    optim = torch.optim.AdamW(
        [
            {"params": body, "lr": float(cfg.opt("lr", 1e-4))},
            {"params": heads, "lr": float(cfg.opt("head_lr", 1e-3))},
        ],
        weight_decay=wd,
    )
    warm = max(1, int(total * float(cfg.opt("warmup", 0.06))))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    scheme = cfg.opt("loss", "weighted")
    weights = exit_weights(
        mc.exit_names(), mc.final_exit, float(cfg.opt("gamma", 0.7)), scheme, params_up_to(model)
    )
    step, history, spent = 0, [], 0.0
    snapshot = out / "last.pt"
    if snapshot.exists():  # resume exactly where the last run stopped
        state = torch.load(snapshot, weights_only=False)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        step, history, spent = state["step"], state["history"], state["seconds"]
        torch.set_rng_state(state["torch_rng"])
        log.info("resuming at step %d of %d", step, total)
    save_every = int(cfg.opt("save_every", 50))

    def save() -> None:
        torch.save(
            {
                "model": model.state_dict(),
                "optim": optim.state_dict(),
                "sched": sched.state_dict(),
                "step": step,
                "history": history,
                "seconds": spent + time.perf_counter() - t0,
                "torch_rng": torch.get_rng_state(),
            },
            snapshot,
        )

    t0 = time.perf_counter()
    bar = tqdm(total=stop, initial=step, unit="step", desc="train", disable=not progress)
    while step < stop:
        epoch, offset = divmod(step, per_epoch)
        train_set.epoch = epoch
        order = torch.randperm(
            len(train_set), generator=torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
        )
        model.train()
        for b in range(offset, per_epoch):
            if step >= stop:
                break
            batch = collate([train_set[int(i)] for i in order[b * bs : (b + 1) * bs]])
            labels = batch.pop("labels")
            loss, parts = joint_loss(model(**batch), labels, weights, scheme)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            step += 1
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}", final=f"{parts[mc.final_exit]:.3f}")
            if step % save_every == 0:
                save()
        if step % per_epoch == 0 or step >= stop:
            acc = collect(model, val_set, bs, progress=False).accuracy()
            history.append({"step": step, "epoch": epoch + 1, "val_accuracy": acc})
            bar.write(
                f"epoch {epoch + 1} val accuracy: "
                + "  ".join(f"{n} {a:.3f}" for n, a in acc.items())
            )
            save()
    bar.close()
    seconds = spent + time.perf_counter() - t0
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "model.safetensors")
    )
    summary = {
        "config": {"seed": cfg.seed, "data": cfg.data, "model": mc.to_dict(), "train": cfg.train},
        "steps": step,
        "train_pages": len(train_set),
        "train_parts": [
            {"root": str(part.root), "label": label, "pages": len(part), "repeat": times}
            for part, times in train_set.parts
            for label in [part.labels[0] if len(part.labels) == 1 else "all"]
        ],
        "val_pages": len(val_set),
        "seconds": round(seconds, 1),
        "history": history,
        "loss_weights": weights,
    }
    (out / "train.json").write_text(json.dumps(summary, indent=2))
    return summary


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
