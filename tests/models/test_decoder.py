"""The multi-exit pointer decoder (models.decoder, models.decoding) on a tiny random config: full
depth step by step is teacher forcing's greedy output; with exits on, every layer's cached states
equal a full recomputation (DEED's just-in-time states, not MuE's copies); a copy says the page's
token and a value goes on where it was copied from."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import pytest
import torch

from models.decoder import DecoderConfig, MultiExitDecoder, Step, Stepper, deed_loss
from models.decoding import FullDepth, Generation, MueDecay, StepConfidence, exit_test, generate

S, H = 9, 32
FIXED = [2, 3, 4, 5, 6]  # EOS and four "keys"


@dataclass(frozen=True)
class Scripted:
    """Step t leaves at layer plan[t]."""

    plan: list[int]
    name: str = "scripted"

    def threshold(self, layer: int, step: int) -> float:
        return 0.0 if layer == self.plan[step] else math.inf


@dataclass
class Tiny:
    decoder: MultiExitDecoder
    states: torch.Tensor  # [1, S, H]
    mask: torch.Tensor  # [1, S]
    copy: torch.Tensor  # [1, S]

    def generate(self, policy: object, **kw: object) -> Generation:
        return generate(self.decoder, self.states, self.mask, self.copy, policy, **kw)  # type: ignore[arg-type]

    def replay(self, out: Generation) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's inputs for out's steps: ids and sources [1, n] (BOS first)."""
        c = self.decoder.config
        ids = [c.bos_id, *[s.token for s in out.steps[:-1]]]
        return torch.tensor([ids]), torch.tensor([[-1, *[s.source for s in out.steps[:-1]]]])


def tiny(seed: int = 0) -> Tiny:
    torch.manual_seed(seed)
    c = DecoderConfig(
        vocab_size=23, fixed=FIXED, hidden_size=H, num_layers=4, num_heads=4,
        intermediate_size=48, adapter_size=8, max_length=24, dropout=0.0,
    )  # fmt: skip
    decoder = MultiExitDecoder(c).eval()
    for layer in range(1, c.num_layers + 1):  # random adapters: every exit says something else
        torch.nn.init.normal_(decoder.adapter(layer).up.weight, std=0.5)
    with torch.no_grad():
        decoder.follow.zero_()
        decoder.embed.weight.mul_(0.2)  # said and copied entries of a like scale
        torch.nn.init.normal_(decoder.pointer_q.weight, std=0.5)
    states = torch.randn(1, S, H)
    mask = torch.tensor([[True] * (S - 2) + [False] * 2])  # two padding tokens
    copy = torch.tensor([[7, 8, 9, 10, 11, -1, -1, 12, 13]])  # two positions hold no word
    return Tiny(decoder, states, mask, copy)


def no_eos(t: Tiny) -> None:
    """No token ends a generation, so that it runs to max_length and covers many steps."""
    t.decoder.config.eos_id = -1


def entry(step: Step) -> int:
    return len(FIXED) + step.source if step.source >= 0 else FIXED.index(step.token)


def test_full_depth_step_by_step_is_teacher_forcings_greedy_output() -> None:
    t = tiny()
    no_eos(t)
    out = t.generate(FullDepth())
    assert len(out.tokens) == t.decoder.config.max_length - 1
    assert {s.layer for s in out.steps} == {t.decoder.config.num_layers}
    ids, sources = t.replay(out)
    with torch.no_grad():
        page = t.decoder.read(t.states, t.mask, t.copy)
        logits, _ = t.decoder(page, ids, sources)
    assert logits[-1, 0].argmax(-1).tolist() == [entry(s) for s in out.steps]
    assert out.layers_run == t.decoder.config.num_layers * len(out.steps)
    assert any(s.source >= 0 for s in out.steps) and any(s.source < 0 for s in out.steps)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_exits_every_cached_state_equals_a_full_recomputation(seed: int) -> None:
    t = tiny(seed)
    no_eos(t)
    d = t.decoder
    # Each step leaves at a layer drawn at random: shallow steps followed by deep ones.
    rng = random.Random(seed)
    plan = [rng.randint(1, d.config.num_layers) for _ in range(d.config.max_length)]
    out = t.generate(Scripted(plan))
    assert [s.layer for s in out.steps] == plan[: len(out.steps)]
    ids, sources = t.replay(out)
    stepper = Stepper(d, d.read(t.states, t.mask, t.copy))  # replay, to read its states
    for i, step in enumerate(out.steps):
        policy = Scripted([0] * i + [step.layer])
        again = stepper.step(int(ids[0, i]), int(sources[0, i]), exit_test(policy, i), [1.0] * 4)
        assert (again.token, again.source) == (step.token, step.source)
    with torch.no_grad():
        _, full = d(d.read(t.states, t.mask, t.copy), ids, sources, return_states=True)
    for layer in range(1, d.config.num_layers + 1):
        n = len(stepper.h[layer])
        # Layer l exists for every step up to the last that needed it, and no further.
        deepest = max((i for i, s in enumerate(out.steps) if s.layer >= layer), default=-1)
        assert n == deepest + 1
        torch.testing.assert_close(stepper.states(layer), full[layer][:, :n], atol=1e-5, rtol=1e-5)
        keys, values = stepper.cache[layer]  # type: ignore[misc]
        block = d.block(layer)
        _, k, v = (block._split(z) for z in block.qkv(block.ln_self(full[layer - 1])).chunk(3, -1))
        torch.testing.assert_close(keys, k[:, :, :n], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(values, v[:, :, :n], atol=1e-5, rtol=1e-5)
    # Early steps cost less than full depth, catch-up included.
    assert out.layers_run < d.config.num_layers * len(out.steps)


def test_a_copy_says_the_page_token_and_never_a_position_without_one() -> None:
    t = tiny()
    no_eos(t)
    for seed in range(5):
        torch.manual_seed(seed)
        t.states = torch.randn(1, S, H)
        for s in t.generate(StepConfidence(0.2)).steps:
            if s.source >= 0:
                assert t.copy[0, s.source] == s.token and t.mask[0, s.source]
            else:
                assert s.token in FIXED


def test_a_value_goes_on_where_it_was_copied_from() -> None:
    t = tiny()
    no_eos(t)
    with torch.no_grad():
        t.decoder.follow.fill_(1e4)  # the next position outweighs everything else
    steps = t.generate(FullDepth()).steps
    followed = 0
    for before, after in zip(steps, steps[1:], strict=False):
        nxt = before.source + 1
        if before.source >= 0 and nxt < S and t.copy[0, nxt] >= 0 and t.mask[0, nxt]:
            assert after.source == nxt
            followed += 1
    assert followed >= 1


def test_mue_decay_holds_the_first_third_then_eases_down() -> None:
    policy = MueDecay(thr=0.9, max_length=30)
    assert all(math.isinf(policy.threshold(1, t)) for t in range(10))
    taus = [policy.threshold(1, t) for t in range(10, 30)]
    assert taus == sorted(taus, reverse=True) and 0.81 < taus[-1] < taus[0] < 0.9
    t = tiny()
    no_eos(t)
    n = t.decoder.config.max_length
    out = t.generate(MueDecay(thr=0.0, max_length=n))
    assert all(s.layer == t.decoder.config.num_layers for s in out.steps[: n // 3])
    assert all(s.layer == 1 for s in out.steps[n // 3 :])  # thr 0: the first exit always passes


def test_a_deadline_stops_generation_and_eos_ends_it() -> None:
    t = tiny()
    no_eos(t)
    asked = []

    def three_more() -> bool:
        asked.append(1)
        return len(asked) <= 3

    out = t.generate(FullDepth(), can_continue=three_more)
    assert out.stopped and len(out.steps) == 4 and len(out.tokens) == 4
    said = next(s.token for s in t.generate(FullDepth()).steps if s.source < 0)
    t.decoder.config.eos_id = said  # a fixed token it says now ends the sequence
    done = t.generate(FullDepth())
    assert done.steps[-1].token == said and said not in done.tokens and not done.stopped


def test_full_depth_reads_only_the_last_exit() -> None:
    t = tiny()
    no_eos(t)
    calls: list[int] = []
    real = t.decoder.exit_logits

    def counted(layer: int, *rest: torch.Tensor) -> torch.Tensor:
        calls.append(layer)
        return real(layer, *rest)  # type: ignore[arg-type]

    t.decoder.exit_logits = counted  # type: ignore[method-assign,assignment]
    out = t.generate(FullDepth())
    assert calls == [t.decoder.config.num_layers] * len(out.steps)


def test_deed_loss_supervises_every_layer() -> None:
    t = tiny()
    d = t.decoder.train()
    ids, sources = torch.randint(3, 23, (2, 9)), torch.full((2, 9), -1)
    sources[0, 3] = 1
    page = d.read(t.states.expand(2, -1, -1), t.mask.expand(2, -1), t.copy.expand(2, -1))
    logits, _ = d(page, ids, sources)
    assert logits.shape == (4, 2, 9, len(FIXED) + S)
    assert torch.isinf(logits[..., len(FIXED) + 5]).all()  # no word there: cannot be copied
    gold = torch.zeros(2, 9, len(FIXED) + S, dtype=torch.bool)
    gold[:, :-1, 1] = True
    gold[0, 3, len(FIXED) + 2] = True  # a copy, and the last step costs nothing
    loss = deed_loss(logits, gold)
    assert torch.isfinite(loss)
    loss.backward()
    for layer in range(1, d.config.num_layers + 1):  # every exit gets a gradient
        grad = d.adapter(layer).down.weight.grad
        assert grad is not None and grad.abs().sum() > 0
    assert d.follow.grad is not None and d.reader.conv.weight.grad is not None


def test_step_confidence_leaves_where_the_exit_is_sure_enough() -> None:
    t = tiny()
    no_eos(t)
    full = t.generate(FullDepth())
    never = t.generate(StepConfidence(1.01))
    assert never.tokens == full.tokens and never.layers_run == full.layers_run
    always = t.generate(StepConfidence(0.0))
    assert {s.layer for s in always.steps} == {1}
    mixed = t.generate(StepConfidence(1.01, taus={2: 0.0}))
    assert {s.layer for s in mixed.steps} == {2}
    for s in t.generate(StepConfidence(0.3)).steps:
        assert s.layer == t.decoder.config.num_layers or s.confidence >= 0.3
