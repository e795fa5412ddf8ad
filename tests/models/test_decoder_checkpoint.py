"""The field decoder as an optional part of a checkpoint (models.decoder_checkpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models.card import CheckpointError
from models.checkpoint import load_checkpoint, read_card
from models.decoder import DecoderConfig, MultiExitDecoder
from models.decoder_card import DECODER_WEIGHTS, DecoderPolicyCard
from models.decoder_checkpoint import load_decoder, save_decoder
from models.decoding import FullDepth, MueDecay, StepConfidence, generate
from models.pretrained import WORD_EMBEDDINGS
from tests.service.conftest import save_tiny_checkpoint


def test_a_decoder_round_trips_through_the_checkpoint(tmp_path: Path) -> None:
    folder = save_tiny_checkpoint(tmp_path / "ckpt")
    model, card = load_checkpoint(folder)
    assert card.decoder is None
    words = model.state_dict()[WORD_EMBEDDINGS]
    assert load_decoder(folder, card, words) is None  # classification alone
    torch.manual_seed(0)
    c = DecoderConfig(vocab_size=words.shape[0], hidden_size=words.shape[1], num_layers=2,
                      num_heads=2, intermediate_size=64, adapter_size=8, max_length=10,
                      dropout=0.0, eos_id=-1)  # fmt: skip
    decoder = MultiExitDecoder(c).eval()
    with torch.no_grad():
        decoder.embed.weight.copy_(words)
    policy = DecoderPolicyCard(name="step_confidence", tau=0.9)
    written = save_decoder(decoder, folder, [1.0, 1.2], policy, training={"pages": 3})
    assert written.decoder is not None and read_card(folder).decoder == written.decoder
    assert written.decoder.fields["invoice"] == ["invoice_number", "date", "total", "vendor"]
    loaded = load_decoder(folder, read_card(folder), words)
    assert loaded is not None
    states, mask = torch.randn(1, 6, c.hidden_size), torch.ones(1, 6, dtype=torch.bool)
    a = generate(decoder, states, mask, FullDepth())
    b = generate(loaded, states, mask, FullDepth())
    assert len(a.tokens) == len(b.tokens) == c.max_length - 1
    # int8 storage: the same tokens nearly everywhere on a random model.
    assert sum(x == y for x, y in zip(a.tokens, b.tokens, strict=True)) >= len(a.tokens) - 2
    (folder / DECODER_WEIGHTS).write_bytes(b"not the weights")
    with pytest.raises(CheckpointError, match="sha256"):
        load_decoder(folder, read_card(folder), words)


def test_decoder_policies_from_the_card() -> None:
    assert isinstance(DecoderPolicyCard(name="full_depth").build(30), FullDepth)
    assert DecoderPolicyCard(name="step_confidence", tau=0.8).build(30) == StepConfidence(0.8)
    assert DecoderPolicyCard(name="mue_decay", tau=0.8).build(30) == MueDecay(0.8, 30)
    with pytest.raises(ValueError, match="needs tau"):
        DecoderPolicyCard(name="step_confidence").build(30)
    with pytest.raises(ValueError, match="unknown"):
        DecoderPolicyCard(name="beam", tau=1.0).build(30)
