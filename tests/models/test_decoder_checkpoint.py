"""The field decoder as an optional part of a checkpoint (models.decoder_checkpoint)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from models.card import CheckpointError
from models.checkpoint import load_checkpoint, read_card
from models.decoder import DecoderConfig, MultiExitDecoder
from models.decoder_card import DECODER_WEIGHTS, DecoderPolicyCard
from models.decoder_checkpoint import TIED, load_decoder, save_decoder, ship
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
    c = DecoderConfig(vocab_size=words.shape[0], fixed=[3, 5, 7, 11],
                      hidden_size=words.shape[1], num_layers=2, num_heads=2,
                      intermediate_size=64, adapter_size=8, max_length=10,
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
    copy = torch.tensor([[1000, 1001, 1002, 1003, -1, -1]])
    a = generate(decoder, states, mask, copy, FullDepth())
    b = generate(loaded, states, mask, copy, FullDepth())
    assert loaded.config.fixed == c.fixed and loaded.fixed.tolist() == c.fixed
    assert len(a.tokens) == len(b.tokens) == c.max_length - 1
    # int8 storage: the same tokens nearly everywhere on a random model.
    assert sum(x == y for x, y in zip(a.tokens, b.tokens, strict=True)) >= len(a.tokens) - 2
    (folder / DECODER_WEIGHTS).write_bytes(b"not the weights")
    with pytest.raises(CheckpointError, match="sha256"):
        load_decoder(folder, read_card(folder), words)


def test_decoder_policies_from_the_card() -> None:
    assert isinstance(DecoderPolicyCard(name="full_depth").build(30), FullDepth)
    assert DecoderPolicyCard(name="step_confidence", tau=0.8).build(30) == StepConfidence(0.8)
    layered = DecoderPolicyCard.model_validate_json(
        '{"name": "step_confidence", "tau": 0.9, "taus": {"2": 0.5}}'
    )
    assert layered.build(30) == StepConfidence(0.9, {2: 0.5})
    assert DecoderPolicyCard(name="mue_decay", tau=0.8).build(30) == MueDecay(0.8, 30)
    with pytest.raises(ValueError, match="needs tau"):
        DecoderPolicyCard(name="step_confidence").build(30)
    with pytest.raises(ValueError, match="unknown"):
        DecoderPolicyCard(name="beam", tau=1.0).build(30)


def test_ship_puts_a_trained_run_with_its_measured_policy_into_the_checkpoint(
    tmp_path: Path,
) -> None:
    folder = save_tiny_checkpoint(tmp_path / "ckpt")
    model, _ = load_checkpoint(folder)
    words = model.state_dict()[WORD_EMBEDDINGS]
    c = DecoderConfig(vocab_size=words.shape[0], fixed=[3, 5], hidden_size=words.shape[1],
                      num_layers=2, num_heads=2, intermediate_size=16, adapter_size=4,
                      max_length=10)  # fmt: skip
    run = tmp_path / "run"
    run.mkdir()
    weights = {k: v for k, v in MultiExitDecoder(c).state_dict().items() if k not in TIED}
    save_file(weights, str(run / "decoder.safetensors"))
    meta = {"config": c.to_dict(), "temperatures": [1.1, 1.3], "corpus": "data/synth",
            "history": [{"epoch": 0, "val_loss": 0.5}], "pages": {"train": 9, "val": 3},
            "encoder": {"name": "tiny", "version": "0"}}  # fmt: skip
    (run / "decoder.json").write_text(json.dumps(meta))
    summary = {"pages": 3, "fields": 5, "exact_match": 0.8, "char_f1": 0.9,
               "mean_exit_layer": 1.5, "decoder_seconds": 0.1,
               "per_field": {"date": {"exact_match": 0.75}}}  # fmt: skip
    results = tmp_path / "results.json"
    policy = {"name": "step_confidence", "tau": 0.9, "taus": {"2": 0.5}}
    results.write_text(json.dumps({"default_policy": policy, "early_vs_full": {"x": 1},
                                   "test": {"full_depth": summary}, "real": {}}))  # fmt: skip
    card = ship(run, results, folder)
    assert card.decoder is not None and card.decoder.temperatures == [1.1, 1.3]
    assert card.decoder.policy.build(10) == StepConfidence(0.9, {2: 0.5})
    assert card.decoder.metrics["test"]["full_depth"]["per_field_exact_match"] == {"date": 0.75}
    assert card.decoder.training["pages"] == {"train": 9, "val": 3}
    assert "torch" in card.decoder.training["libraries"]
    loaded = load_decoder(folder, read_card(folder), words)
    assert loaded is not None and loaded.config == c
