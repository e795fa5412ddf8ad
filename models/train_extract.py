"""Train the field decoder (models.decoder) on a frozen classifier checkpoint.

    python -m models.train_extract --corpus data/synth --checkpoint models/checkpoints/default \
        --out build/extract [--epochs N] [--per-class N]

The classifier is frozen: its multimodal stream's last-layer token states are computed once per
page (models.extract_data, cached in OUT) and the decoder learns to read the class's fields off
them with DEED's deep supervision (every layer through the shared head). The decoder's token
embedding, and so its tied head, is the classifier's own frozen WordPiece table, which the
checkpoint does not store (models.checkpoint). Resumable: OUT/last.pt after every epoch; the
next run with the same OUT continues. Ends with one temperature per decoder layer fitted on the
val split, and OUT/decoder.safetensors with OUT/decoder.json."""

from __future__ import annotations

import argparse
import json
import logging
import random
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from tqdm import tqdm

from models.checkpoint import load_checkpoint
from models.decoder import DecoderConfig, MultiExitDecoder, deed_loss
from models.extract_data import Batch, Pair, cached_pairs, collate
from models.fields import fixed_vocabulary, specials
from models.pretrained import WORD_EMBEDDINGS

log = logging.getLogger("docexit.train_extract")


def build(encoder_words: torch.Tensor, args: argparse.Namespace) -> MultiExitDecoder:
    s = specials()
    c = DecoderConfig(
        vocab_size=encoder_words.shape[0],
        fixed=list(fixed_vocabulary()),
        hidden_size=encoder_words.shape[1],
        num_layers=args.layers,
        max_length=args.max_length,
        pad_id=s.pad,
        bos_id=s.bos,
        eos_id=s.eos,
    )
    decoder = MultiExitDecoder(c)
    with torch.no_grad():
        decoder.embed.weight.copy_(encoder_words)
    decoder.embed.weight.requires_grad_(False)  # and the tied head: the encoder's own table
    return decoder


def batch_logits(decoder: MultiExitDecoder, b: Batch) -> torch.Tensor:
    """Teacher-forced entry logits at every layer: [L, B, T, E]."""
    logits, _ = decoder(decoder.read(b.states, b.mask, b.copy_ids), b.inputs, b.sources)
    return logits


def epoch_loss(
    decoder: MultiExitDecoder,
    pairs: list[Pair],
    batch: int,
    optimizer: torch.optim.Optimizer | None,
    seed: int,
) -> float:
    """One pass; trains when an optimizer is given. Returns the mean DEED loss."""
    order = list(range(len(pairs)))
    if optimizer is not None:
        random.Random(seed).shuffle(order)
    decoder.train(optimizer is not None)
    total, n = 0.0, 0
    pad, fixed = decoder.config.pad_id, decoder.config.fixed
    bar = tqdm(range(0, len(order), batch), desc="train" if optimizer else "val", leave=False)
    for start in bar:
        b = collate([pairs[i] for i in order[start : start + batch]], pad, fixed)
        with torch.set_grad_enabled(optimizer is not None):
            loss = deed_loss(batch_logits(decoder, b), b.gold)
        if optimizer is not None:
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(decoder.parameters(), 1.0)
            optimizer.step()
        total, n = total + float(loss) * len(b.inputs), n + len(b.inputs)
        bar.set_postfix(loss=f"{total / n:.3f}")
    return total / max(n, 1)


@torch.no_grad()
def fit_temperatures(decoder: MultiExitDecoder, pairs: list[Pair], batch: int) -> list[float]:
    """One temperature per layer's exit, minimising its token NLL on `pairs` (a grid: the
    NLL of one scalar is unimodal enough, and a grid needs no gradients)."""
    decoder.eval()
    pad, grid = decoder.config.pad_id, [0.5 + 0.05 * i for i in range(51)]
    nll = torch.zeros(decoder.config.num_layers, len(grid))
    for start in range(0, len(pairs), batch):
        b = collate(pairs[start : start + batch], pad, decoder.config.fixed)
        logits, keep = batch_logits(decoder, b), b.gold.any(-1)
        for j, t in enumerate(grid):
            scaled = logits / t  # [L, B, T, E]
            right = torch.logsumexp(scaled.masked_fill(~b.gold, float("-inf")), -1)
            nll[:, j] += (torch.logsumexp(scaled, -1) - right)[:, keep].sum(-1)
    return [grid[int(j)] for j in nll.argmin(1)]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m models.train_extract", description=__doc__)
    p.add_argument("--corpus", type=Path, default=Path("data/synth"))
    p.add_argument("--checkpoint", type=Path, default=Path("models/checkpoints/default"))
    p.add_argument("--out", type=Path, default=Path("build/extract"))
    p.add_argument("--per-class", type=int, default=None, help="train pages per class")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.manual_seed(args.seed)
    encoder, card = load_checkpoint(args.checkpoint)
    words = encoder.state_dict()[WORD_EMBEDDINGS].float()
    train = cached_pairs(
        encoder, args.corpus / "train", args.out / "train.pt", args.max_length, args.per_class
    )
    val = cached_pairs(
        encoder, args.corpus / "val", args.out / "val.pt", args.max_length, args.per_class
    )
    decoder = build(words, args)
    trainable = [q for q in decoder.parameters() if q.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    history: list[dict[str, Any]] = []
    last = args.out / "last.pt"
    if last.exists():
        snap = torch.load(last, weights_only=False)
        decoder.load_state_dict(snap["decoder"])
        optimizer.load_state_dict(snap["optimizer"])
        history = snap["history"]
    for epoch in tqdm(range(len(history), args.epochs), desc="epochs"):
        for group in optimizer.param_groups:  # linear decay to a tenth
            group["lr"] = args.lr * (1 - 0.9 * epoch / max(1, args.epochs - 1))
        loss = epoch_loss(decoder, train, args.batch, optimizer, args.seed + epoch)
        val_loss = epoch_loss(decoder, val, args.batch, None, 0)
        history.append({"epoch": epoch, "train_loss": loss, "val_loss": val_loss})
        log.info("epoch %d: train %.4f val %.4f", epoch, loss, val_loss)
        state = {"decoder": decoder.state_dict(), "optimizer": optimizer.state_dict()}
        torch.save({**state, "history": history}, last)
    temperatures = fit_temperatures(decoder, val, args.batch)
    weights = {
        k: v for k, v in decoder.state_dict().items() if not k.startswith(("embed.", "head."))
    }
    save_file(
        {k: v.contiguous() for k, v in weights.items()}, str(args.out / "decoder.safetensors")
    )
    meta = {
        "config": decoder.config.to_dict(),
        "temperatures": temperatures,
        "history": history,
        "encoder": {"name": card.name, "version": card.version},
        "pages": {"train": len(train), "val": len(val)},
        "corpus": str(args.corpus),
    }
    (args.out / "decoder.json").write_text(json.dumps(meta, indent=2) + "\n")
    log.info("wrote %s", args.out / "decoder.safetensors")


if __name__ == "__main__":
    main()
