"""The multi-exit decoder (models.decoder, models.decoding) on a tiny random config: full depth
step by step is teacher forcing's greedy output, and with exits on, every layer's cached states
equal a full recomputation (DEED's just-in-time states, not MuE's copies)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import pytest
import torch

from models.decoder import DecoderConfig, MultiExitDecoder, Stepper, deed_loss
from models.decoding import FullDepth, MueDecay, StepConfidence, exit_test, generate

S, H = 7, 32


@dataclass(frozen=True)
class Scripted:
    """Step t leaves at layer plan[t]."""

    plan: list[int]
    name: str = "scripted"

    def threshold(self, layer: int, step: int) -> float:
        return 0.0 if layer == self.plan[step] else math.inf


def tiny(seed: int = 0) -> tuple[MultiExitDecoder, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    c = DecoderConfig(
        vocab_size=23, hidden_size=H, num_layers=4, num_heads=4, intermediate_size=48,
        adapter_size=8, max_length=24, dropout=0.0,
    )  # fmt: skip
    decoder = MultiExitDecoder(c).eval()
    for layer in range(1, c.num_layers + 1):  # random adapters: every exit says something else
        torch.nn.init.normal_(decoder.adapter(layer).up.weight, std=0.5)
    states = torch.randn(1, S, H)
    mask = torch.tensor([[True] * (S - 2) + [False] * 2])  # two padding tokens
    return decoder, states, mask


def no_eos(decoder: MultiExitDecoder) -> None:
    """No token ends a generation, so that it runs to max_length and covers many steps."""
    decoder.config.eos_id = -1


def test_full_depth_step_by_step_is_teacher_forcings_greedy_output() -> None:
    decoder, states, mask = tiny()
    no_eos(decoder)
    out = generate(decoder, states, mask, FullDepth())
    assert len(out.tokens) == decoder.config.max_length - 1
    assert {s.layer for s in out.steps} == {decoder.config.num_layers}
    ids = torch.tensor([[decoder.config.bos_id, *out.tokens[:-1]]])
    with torch.no_grad():
        logits, _ = decoder(states, mask, ids)
    assert logits[-1, 0].argmax(-1).tolist() == out.tokens
    assert out.layers_run == decoder.config.num_layers * len(out.steps)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_exits_every_cached_state_equals_a_full_recomputation(seed: int) -> None:
    decoder, states, mask = tiny(seed)
    no_eos(decoder)
    # Each step leaves at a layer drawn at random: shallow steps followed by deep ones.
    rng = random.Random(seed)
    plan = [rng.randint(1, decoder.config.num_layers) for _ in range(decoder.config.max_length)]
    out = generate(decoder, states, mask, Scripted(plan))
    assert [s.layer for s in out.steps] == plan[: len(out.steps)]
    ids = torch.tensor([[decoder.config.bos_id, *[s.token for s in out.steps[:-1]]]])
    stepper = Stepper(decoder, states, mask)  # replay, to read its states
    for t, step in enumerate(out.steps):
        policy = Scripted([0] * t + [step.layer])
        again = stepper.step(int(ids[0, t]), exit_test(policy, t), [1.0] * len(decoder.layers))
        assert again.token == step.token
    with torch.no_grad():
        _, full = decoder(states, mask, ids, return_states=True)
    for layer in range(1, decoder.config.num_layers + 1):
        n = len(stepper.h[layer])
        # Layer l exists for every step up to the last that needed it, and no further.
        deepest = max((t for t, s in enumerate(out.steps) if s.layer >= layer), default=-1)
        assert n == deepest + 1
        torch.testing.assert_close(stepper.states(layer), full[layer][:, :n], atol=1e-5, rtol=1e-5)
        keys, values = stepper.cache[layer]  # type: ignore[misc]
        block = decoder.block(layer)
        _, k, v = (block._split(z) for z in block.qkv(block.ln_self(full[layer - 1])).chunk(3, -1))
        torch.testing.assert_close(keys, k[:, :, :n], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(values, v[:, :, :n], atol=1e-5, rtol=1e-5)
    # Early steps cost less than full depth, catch-up included.
    assert out.layers_run < decoder.config.num_layers * len(out.steps)


def test_mue_decay_holds_the_first_third_then_eases_down() -> None:
    policy = MueDecay(thr=0.9, max_length=30)
    assert all(math.isinf(policy.threshold(1, t)) for t in range(10))
    taus = [policy.threshold(1, t) for t in range(10, 30)]
    assert taus == sorted(taus, reverse=True) and 0.81 < taus[-1] < taus[0] < 0.9
    decoder, states, mask = tiny()
    no_eos(decoder)
    out = generate(decoder, states, mask, MueDecay(thr=0.0, max_length=decoder.config.max_length))
    held = decoder.config.max_length // 3
    assert all(s.layer == decoder.config.num_layers for s in out.steps[:held])
    assert all(s.layer == 1 for s in out.steps[held:])  # thr 0: the first exit always passes


def test_a_deadline_stops_generation_and_eos_ends_it() -> None:
    decoder, states, mask = tiny()
    no_eos(decoder)
    asked = []

    def three_more() -> bool:
        asked.append(1)
        return len(asked) <= 3

    out = generate(decoder, states, mask, FullDepth(), can_continue=three_more)
    assert out.stopped and len(out.steps) == 4 and len(out.tokens) == 4
    decoder.config.eos_id = out.tokens[0]  # the first token it says now ends the sequence
    done = generate(decoder, states, mask, FullDepth())
    assert done.tokens == [] and len(done.steps) == 1 and not done.stopped


def test_deed_loss_supervises_every_layer() -> None:
    decoder, states, mask = tiny()
    decoder.train()
    ids = torch.randint(3, 23, (2, 9))
    logits, _ = decoder(states.expand(2, -1, -1), mask.expand(2, -1), ids)
    assert logits.shape == (4, 2, 9, 23)
    loss = deed_loss(logits, ids)
    loss.backward()
    for layer in range(1, decoder.config.num_layers + 1):  # every exit gets a gradient
        grad = decoder.adapter(layer).down.weight.grad
        assert grad is not None and grad.abs().sum() > 0


def test_step_confidence_leaves_where_the_exit_is_sure_enough() -> None:
    decoder, states, mask = tiny()
    no_eos(decoder)
    full = generate(decoder, states, mask, FullDepth())
    never = generate(decoder, states, mask, StepConfidence(1.01))
    assert never.tokens == full.tokens and never.layers_run == full.layers_run
    always = generate(decoder, states, mask, StepConfidence(0.0))
    assert {s.layer for s in always.steps} == {1}
    mixed = generate(decoder, states, mask, StepConfidence(1.01, taus={2: 0.0}))
    assert {s.layer for s in mixed.steps} == {2}
    for s in generate(decoder, states, mask, StepConfidence(0.3)).steps:
        assert s.layer == decoder.config.num_layers or s.confidence >= 0.3
