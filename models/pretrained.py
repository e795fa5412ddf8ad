"""all-MiniLM-L6-v2 (BERT) weights mapped 1:1 into the text stack of transformers' LayoutLMv3.

BERT and LayoutLMv3 share the text encoder layout; the differences are handled here: the `bert.`
prefix, the pooler (dropped), position rows (LayoutLMv3 counts from pad_token_id + 1, so BERT's row
i goes to row i + 1) and token types (LayoutLMv3 keeps one: BERT's row 0)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor

from models.inputs import minilm_dir

WORD_EMBEDDINGS = "backbone.embeddings.word_embeddings.weight"


def minilm_file() -> Path:
    return minilm_dir() / "model.safetensors"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tensor_sha256(t: Tensor) -> str:
    return hashlib.sha256(t.detach().to(torch.float32).contiguous().numpy().tobytes()).hexdigest()


def minilm_state_dict(max_positions: int) -> dict[str, Tensor]:
    """The MiniLM weights under our model's parameter names (prefix `backbone.`)."""
    src = load_file(str(minilm_file()))
    out: dict[str, Tensor] = {}
    for key, value in src.items():
        name = key.removeprefix("bert.")
        if name.startswith("pooler.") or name == "embeddings.position_ids":
            continue
        if name == "embeddings.position_embeddings.weight":
            rows = torch.zeros(max_positions, value.shape[1])
            n = min(value.shape[0], max_positions - 1)
            rows[1 : n + 1] = value[:n]
            value = rows
        elif name == "embeddings.token_type_embeddings.weight":
            value = value[:1]
        out[f"backbone.{name}"] = value
    return out
