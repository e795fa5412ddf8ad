"""The training loop and its config: how long a run is, its optimizer and schedule, and a
Trainer that runs epochs, validates and writes resumable snapshots (models.train builds the
model and the data and drives it)."""

from __future__ import annotations

import logging
import math
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from models.collect import collect
from models.dataset import PageDataset, Repeated, collate
from models.losses import joint_loss
from models.multiexit import MultiExitLayoutLMv3

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


@dataclass(frozen=True)
class Steps:
    """The run's length in optimizer steps. `total` alone shapes the learning-rate schedule;
    `stop` (--max-steps) only ends the run early, so that a stopped run resumes onto the very
    schedule a run without --max-steps follows."""

    batch_size: int
    per_epoch: int
    total: int
    stop: int

    @classmethod
    def plan(cls, cfg: TrainConfig, pages: int, max_steps: int | None) -> Steps:
        bs, epochs = int(cfg.opt("batch_size", 16)), int(cfg.opt("epochs", 3))
        per_epoch = math.ceil(pages / bs)
        total = per_epoch * epochs
        return cls(bs, per_epoch, total, total if max_steps is None else min(max_steps, total))


def make_optimizer(
    cfg: TrainConfig, model: MultiExitLayoutLMv3, fresh: set[str]
) -> torch.optim.AdamW:
    """AdamW with two groups: pretrained weights at `lr`, the fresh ones (heads, layers MiniLM has
    no weights for) at the higher `head_lr`. Frozen parameters stay out of both."""
    heads = [p for n, p in model.named_parameters() if n in fresh and p.requires_grad]
    body = [p for n, p in model.named_parameters() if n not in fresh and p.requires_grad]
    return torch.optim.AdamW(
        [
            {"params": body, "lr": float(cfg.opt("lr", 1e-4))},
            {"params": heads, "lr": float(cfg.opt("head_lr", 1e-3))},
        ],
        weight_decay=float(cfg.opt("weight_decay", 0.01)),
    )


def make_scheduler(
    optim: torch.optim.Optimizer, total: int, warmup: float
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over the first `warmup` fraction of `total` steps, then linear decay to 0."""
    warm = max(1, int(total * warmup))
    return torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )


@dataclass
class Trainer:
    """One run's moving parts and position. A snapshot (`save`) holds all that continuing needs
    to reach the same weights bit for bit: model, optimizer, schedule, position, history, and the
    global torch RNG (dropout); data order and augmentation draws follow from seed and epoch."""

    model: MultiExitLayoutLMv3
    optim: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    steps: Steps
    train_set: Repeated
    val_set: PageDataset
    weights: dict[str, float]  # per exit, in the joint loss
    scheme: str
    seed: int
    snapshot: Path
    save_every: int
    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    spent: float = 0.0  # seconds of the earlier runs this one continues
    t0: float = 0.0  # when this run's training loop started (perf_counter)

    def resume(self) -> None:
        """Pick up exactly where the last run with this snapshot stopped, if there was one."""
        if not self.snapshot.exists():
            return
        state = torch.load(self.snapshot, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optim.load_state_dict(state["optim"])
        self.sched.load_state_dict(state["sched"])
        self.step, self.history, self.spent = state["step"], state["history"], state["seconds"]
        torch.set_rng_state(state["torch_rng"])
        log.info("resuming at step %d of %d", self.step, self.steps.total)

    def seconds(self) -> float:
        """Training time so far, earlier runs included."""
        return self.spent + time.perf_counter() - self.t0

    def save(self) -> None:
        torch.save(
            {
                "model": self.model.state_dict(),
                "optim": self.optim.state_dict(),
                "sched": self.sched.state_dict(),
                "step": self.step,
                "history": self.history,
                "seconds": self.seconds(),
                "torch_rng": torch.get_rng_state(),
            },
            self.snapshot,
        )

    def run(self, progress: bool) -> None:
        """Train from the current step to `steps.stop`, validating (and saving) at each epoch's
        end, and at the stop, so that even a --max-steps run reports a validation accuracy."""
        self.t0 = time.perf_counter()
        bar = tqdm(
            total=self.steps.stop,
            initial=self.step,
            unit="step",
            desc="train",
            disable=not progress,
        )
        while self.step < self.steps.stop:
            epoch, offset = divmod(self.step, self.steps.per_epoch)
            self._train_epoch(epoch, offset, bar)
            if self.step % self.steps.per_epoch == 0 or self.step >= self.steps.stop:
                self._validate(epoch, bar)
                self.save()
        bar.close()

    def _train_epoch(self, epoch: int, offset: int, bar: tqdm) -> None:
        """Batches `offset`.. of `epoch` (offset > 0 only when resuming mid-epoch). The order is a
        function of seed and epoch alone, so a resumed run sees the batches it would have seen."""
        self.train_set.epoch = epoch  # the pages' per-epoch draws: OCR or clean text, band cuts
        order = torch.randperm(
            len(self.train_set), generator=torch.Generator().manual_seed(self.seed * 1000 + epoch)
        )
        self.model.train()
        bs = self.steps.batch_size
        for b in range(offset, self.steps.per_epoch):
            if self.step >= self.steps.stop:
                break
            loss, parts = self._step(
                collate([self.train_set[int(i)] for i in order[b * bs : (b + 1) * bs]])
            )
            self.step += 1
            bar.update()
            final = parts[self.model.config.final_exit]
            bar.set_postfix(loss=f"{loss.item():.3f}", final=f"{final:.3f}")
            if self.step % self.save_every == 0:
                self.save()

    def _step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        """One optimizer step on one batch; the joint loss and its per-exit parts."""
        labels = batch.pop("labels")
        loss, parts = joint_loss(self.model(**batch), labels, self.weights, self.scheme)
        self.optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optim.step()
        self.sched.step()
        return loss, parts

    def _validate(self, epoch: int, bar: tqdm) -> None:
        acc = collect(self.model, self.val_set, self.steps.batch_size, progress=False).accuracy()
        self.history.append({"step": self.step, "epoch": epoch + 1, "val_accuracy": acc})
        bar.write(
            f"epoch {epoch + 1} val accuracy: " + "  ".join(f"{n} {a:.3f}" for n, a in acc.items())
        )
