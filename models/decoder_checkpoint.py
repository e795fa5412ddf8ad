"""The field decoder inside a classifier checkpoint: decoder.safetensors (int8/fp16, as the
classifier's weights are stored) and the card's `decoder` section. The decoder's token
embedding and its tied head are the classifier's frozen WordPiece table, so neither is stored.

    python -m models.decoder_checkpoint --run build/extract --checkpoint models/checkpoints/default

puts a decoder trained by models.train_extract into a checkpoint, with what
models.evaluate_extract measured (reports/extract/results.json)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import Tensor

from models.card import Card, CheckpointError
from models.checkpoint import (
    dequantize,
    library_versions,
    load_checkpoint,
    quantize,
    read_card,
    sha256_file,
)
from models.data.families import REQUIRED_FIELDS
from models.decoder import MultiExitDecoder
from models.decoder_card import DECODER_WEIGHTS, DecoderCard, DecoderPolicyCard
from models.pretrained import WORD_EMBEDDINGS

TIED = ("embed.weight", "head.weight")  # the classifier's word embeddings


def save_decoder(
    decoder: MultiExitDecoder,
    folder: Path,
    temperatures: list[float],
    policy: DecoderPolicyCard,
    **extra: Any,
) -> Card:
    """Add the decoder to the checkpoint in `folder` (its card is rewritten with the section)."""
    card = read_card(folder)
    state = {k: v for k, v in decoder.state_dict().items() if k not in TIED}
    save_file(quantize(state), str(folder / DECODER_WEIGHTS))
    section = DecoderCard(
        config=decoder.config.to_dict(),
        fields={k: list(v) for k, v in REQUIRED_FIELDS.items() if v},
        temperatures=temperatures,
        policy=policy,
        weights_sha256=sha256_file(folder / DECODER_WEIGHTS),
        **extra,
    )
    card = card.updated(decoder=section)
    card.write(folder)
    return card


def load_decoder(folder: Path, card: Card, words: Tensor) -> MultiExitDecoder | None:
    """The checkpoint's decoder, its hash verified, tied to `words` (the classifier's word
    embeddings); None when the checkpoint has none."""
    if card.decoder is None:
        return None
    path = folder / DECODER_WEIGHTS
    if not path.exists():
        raise CheckpointError(f"{path} is missing (the card describes a decoder)")
    if sha256_file(path) != card.decoder.weights_sha256:
        raise CheckpointError(f"{path}: sha256 does not match the card's; corrupt or replaced")
    decoder = MultiExitDecoder(card.decoder.shape())
    state = dequantize(load_file(str(path)))
    state.update(dict.fromkeys(TIED, words.float()))
    missing, unexpected = decoder.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"decoder weights do not fit: {missing} {unexpected}")
    return decoder.to(words.device).eval()


def ship(run: Path, results: Path, folder: Path) -> Card:
    """Put a trained decoder (models.train_extract's RUN) into the checkpoint in `folder`, with
    the default policy, test and real-page metrics measured by models.evaluate_extract."""
    # Imported here: the service imports this module and needs none of the evaluation.
    from models.evaluate_extract import load_decoder as load_run

    model, card = load_checkpoint(folder)
    meta = json.loads((run / "decoder.json").read_text())
    report = json.loads(results.read_text())
    decoder, temperatures = load_run(run, model.state_dict()[WORD_EMBEDDINGS])
    fp32 = run / "decoder.safetensors"
    training = {
        "corpus": meta["corpus"],
        "pages": meta["pages"],
        "epochs": len(meta["history"]),
        "val_loss": meta["history"][-1]["val_loss"],
        "encoder": meta["encoder"],
        "weights_sha256_fp32": sha256_file(fp32),
        "libraries": library_versions(),
    }
    metrics = {
        "test": {name: _headline(s) for name, s in report["test"].items()},
        "early_vs_full": report["early_vs_full"],
        "real": {name: _headline(s) for name, s in report.get("real", {}).items()},
    }
    policy = DecoderPolicyCard(**report["default_policy"])
    return save_decoder(decoder, folder, temperatures, policy, training=training, metrics=metrics)


def _headline(summary: dict[str, Any]) -> dict[str, Any]:
    """An evaluate_extract summary as the card keeps it: totals and per-field exact match."""
    keep = ("pages", "fields", "exact_match", "char_f1", "mean_exit_layer", "decoder_seconds")
    per_field = {k: round(v["exact_match"], 4) for k, v in summary["per_field"].items()}
    return {**{k: summary[k] for k in keep}, "per_field_exact_match": per_field}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m models.decoder_checkpoint", description=ship.__doc__
    )
    p.add_argument("--run", type=Path, default=Path("build/extract"))
    p.add_argument("--results", type=Path, default=Path("reports/extract/results.json"))
    p.add_argument("--checkpoint", type=Path, default=Path("models/checkpoints/default"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    card = ship(args.run, args.results, args.checkpoint)
    size = sum(f.stat().st_size for f in args.checkpoint.iterdir()) / 2**20
    logging.getLogger("docexit.decoder_checkpoint").info(
        "%s: decoder in, policy %s, checkpoint %.1f MiB",
        args.checkpoint,
        card.decoder and card.decoder.policy,
        size,
    )


if __name__ == "__main__":
    main()
