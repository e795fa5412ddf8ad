"""Tiny random configs: unit tests exercise the real code paths in milliseconds."""

from __future__ import annotations

import pytest
import torch

from models.multiexit import MultiExitConfig, MultiExitLayoutLMv3


def tiny_config(**overrides: object) -> MultiExitConfig:
    base: dict[str, object] = {
        "num_labels": 5,
        "vocab_size": 30522,  # the real tokenizer feeds the runtime tests
        "hidden_size": 32,
        "num_layers": 3,
        "num_heads": 2,
        "intermediate_size": 64,
        "max_position_embeddings": 40,
        "coordinate_size": 8,
        "shape_size": 0,
        "image_size": 32,
        "patch_size": 16,
        "dropout": 0.0,
        "max_text_tokens": 16,
    }
    base.update(overrides)
    return MultiExitConfig(**base)  # type: ignore[arg-type]


def tiny_batch(b: int = 2, t: int = 7) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x0y0 = torch.randint(0, 400, (b, t, 2), generator=g)
    bbox = torch.cat([x0y0, x0y0 + torch.randint(1, 300, (b, t, 2), generator=g)], -1)
    return {
        "pixel_values": torch.randn(b, 3, 32, 32, generator=g),
        "input_ids": torch.randint(1, 120, (b, t), generator=g),
        "bbox": bbox,
        "attention_mask": torch.ones(b, t, dtype=torch.long),
    }


@pytest.fixture
def model() -> MultiExitLayoutLMv3:
    torch.manual_seed(0)
    return MultiExitLayoutLMv3(tiny_config()).eval()
