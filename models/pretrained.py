"""all-MiniLM-L6-v2 (BERT) weights mapped 1:1 into the text stack of transformers' LayoutLMv3.

BERT and LayoutLMv3 share the text encoder layout; the differences are handled here: the `bert.`
prefix, the pooler (dropped), position rows (LayoutLMv3 counts from pad_token_id + 1, so BERT's row
i goes to row i + 1) and token types (LayoutLMv3 keeps one: BERT's row 0)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import Tensor

from models.image_stem import Lite0Trunk
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


def sincos_2d(grid: int, dim: int, scale: float = 1.0) -> Tensor:
    """Fixed 2D sine-cosine positions for a grid x grid patch layout, a zero row for the image
    [CLS] first: [1, 1 + grid * grid, dim]. dim must be a multiple of 4."""
    if dim % 4:
        raise ValueError(f"sincos_2d needs dim % 4 == 0, not {dim}")
    y, x = torch.meshgrid(torch.arange(float(grid)), torch.arange(float(grid)), indexing="ij")
    q = dim // 4
    omega = 1.0 / (100.0 ** (torch.arange(q, dtype=torch.float32) / q))
    xs, ys = x.flatten()[:, None] * omega, y.flatten()[:, None] * omega
    table = torch.cat([xs.sin(), xs.cos(), ys.sin(), ys.cos()], 1)
    return torch.cat([torch.zeros(1, dim), table], 0).unsqueeze(0) * scale


def init_image_embeddings(backbone: Any) -> None:
    """Start the image part, which no pretrained weights cover here, where it learns fast:
    sine-cosine patch positions (transformers starts them at zero, so a freshly initialised
    stack cannot tell where a patch is) and a small patch projection, so that positions are not
    drowned by the content of inked patches."""
    bb = backbone  # a transformers LayoutLMv3Model
    if bb.pos_embed is None:
        return
    grid = int(round((bb.pos_embed.shape[1] - 1) ** 0.5))
    with torch.no_grad():
        bb.pos_embed.copy_(sincos_2d(grid, bb.pos_embed.shape[2]))
        proj = bb.patch_embed.proj
        (proj.out if isinstance(proj, Lite0Trunk) else proj).weight.mul_(0.1)
