"""Multi-exit decoder (DEED, Tang et al., NAACL 2024): a page's key fields generated as text, token
by token, each step leaving at the first decoder layer whose exit is confident enough.

Read top to bottom:
  1. DecoderConfig     - the typed config.
  2. DecoderLayer      - pre-LN causal self-attention, cross-attention to the encoder's token
                         states, feed-forward; it runs a chunk of new positions against its own
                         KV cache.
  3. ExitAdapter       - DEED's light per-layer adaptation module in front of the one shared head.
  4. MultiExitDecoder  - forward: teacher forcing, logits at every layer (deep supervision).
  5. Stepper           - incremental decoding with step-level exits. Before layer l runs for step t,
                         the layer-l states of earlier steps that left below l are computed just in
                         time from their layer l-1 states, so step t attends to exactly the keys and
                         values full depth would have (DEED; MuE copies the exit layer's instead).

Shapes: B batch, T decoder positions, S encoder tokens, H hidden, V vocabulary, L layers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

KV = tuple[Tensor, Tensor]  # keys, values: [B, heads, positions, head size]

# -- 1. config -------------------------------------------------------------------------------


@dataclass
class DecoderConfig:
    vocab_size: int  # the field tokenizer's (models.fields)
    hidden_size: int = 384  # the encoder's: cross-attention reads its states as they are
    num_layers: int = 4
    num_heads: int = 6
    intermediate_size: int = 1024
    adapter_size: int = 64
    max_length: int = 160  # decoder positions, BOS included
    dropout: float = 0.1
    pad_id: int = 0
    bos_id: int = 1
    eos_id: int = 2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecoderConfig:
        return cls(**data)


# -- 2. one layer ----------------------------------------------------------------------------


class DecoderLayer(nn.Module):
    def __init__(self, c: DecoderConfig) -> None:
        super().__init__()
        h, self.heads = c.hidden_size, c.num_heads
        self.ln_self, self.qkv, self.self_out = (
            nn.LayerNorm(h),
            nn.Linear(h, 3 * h),
            nn.Linear(h, h),
        )
        self.ln_cross, self.q, self.kv = nn.LayerNorm(h), nn.Linear(h, h), nn.Linear(h, 2 * h)
        self.cross_out = nn.Linear(h, h)
        self.ln_ffn = nn.LayerNorm(h)
        self.ffn = nn.Sequential(
            nn.Linear(h, c.intermediate_size), nn.GELU(), nn.Linear(c.intermediate_size, h)
        )
        self.drop = nn.Dropout(c.dropout)

    def _split(self, x: Tensor) -> Tensor:  # [B, T, H] -> [B, heads, T, H / heads]
        b, t, h = x.shape
        return x.view(b, t, self.heads, h // self.heads).transpose(1, 2)

    def _merge(self, x: Tensor) -> Tensor:  # [B, heads, T, d] -> [B, T, heads * d]
        b, _, t, _ = x.shape
        return x.transpose(1, 2).reshape(b, t, -1)

    def memory_kv(self, memory: Tensor) -> KV:
        """The encoder states' keys and values, once per page: [B, S, H] -> 2 x [B, heads, S, d]."""
        k, v = self.kv(memory).chunk(2, dim=-1)
        return self._split(k), self._split(v)

    def forward(
        self, x: Tensor, past: KV | None, memory: KV, memory_mask: Tensor
    ) -> tuple[Tensor, KV]:
        """x: [B, T, H], the states of T new positions after `past`'s P; memory_mask: [B, S],
        True on real encoder tokens. Returns the new positions' outputs [B, T, H] and the cache
        extended to P + T positions."""
        q, k, v = (self._split(z) for z in self.qkv(self.ln_self(x)).chunk(3, dim=-1))
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        t, total = x.shape[1], k.shape[2]
        # Position P + i attends to every earlier position and itself: [T, P + T].
        causal = torch.ones(t, total, dtype=torch.bool, device=x.device).tril(total - t)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=causal)
        x = x + self.drop(self.self_out(self._merge(a)))
        q = self._split(self.q(self.ln_cross(x)))
        a = F.scaled_dot_product_attention(q, *memory, attn_mask=memory_mask[:, None, None, :])
        x = x + self.drop(self.cross_out(self._merge(a)))
        x = x + self.drop(self.ffn(self.ln_ffn(x)))
        return x, (k, v)


# -- 3. the exits ------------------------------------------------------------------------------


class ExitAdapter(nn.Module):
    """Normalise, then a bottleneck residual: what lets one shared head read every layer."""

    def __init__(self, c: DecoderConfig) -> None:
        super().__init__()
        self.ln = nn.LayerNorm(c.hidden_size)
        self.down, self.up = (
            nn.Linear(c.hidden_size, c.adapter_size),
            nn.Linear(c.adapter_size, c.hidden_size),
        )
        nn.init.zeros_(self.up.weight)  # starts as the identity on the normalised state
        nn.init.zeros_(self.up.bias)

    def forward(self, x: Tensor) -> Tensor:  # [..., H] -> [..., H]
        x = self.ln(x)
        return x + self.up(F.gelu(self.down(x)))


# -- 4. the decoder --------------------------------------------------------------------------


class MultiExitDecoder(nn.Module):
    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        c = self.config = config
        self.embed = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_id)
        self.position = nn.Embedding(c.max_length, c.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.num_layers))
        self.adapters = nn.ModuleList(ExitAdapter(c) for _ in range(c.num_layers))
        self.head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # the shared head, tied to the token embedding
        self.drop = nn.Dropout(c.dropout)

    def embed_at(self, ids: Tensor, start: int) -> Tensor:
        """ids: [B, T] at positions start .. start + T - 1 -> [B, T, H]."""
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        return self.drop(self.embed(ids) + self.position(positions)[None])

    def block(self, layer: int) -> DecoderLayer:
        """Decoder layer `layer` (1-based)."""
        return cast(DecoderLayer, self.layers[layer - 1])

    def adapter(self, layer: int) -> ExitAdapter:
        return cast(ExitAdapter, self.adapters[layer - 1])

    def exit_logits(self, layer: int, states: Tensor, vocab: Tensor | None = None) -> Tensor:
        """Layer `layer` (1-based) exit: [..., H] -> [..., V], or over the token ids `vocab`
        only ([C]: the page's own tokens and the field keys, models.fields) -> [..., C]."""
        x = self.adapter(layer)(states)
        if vocab is None:
            out: Tensor = self.head(x)
            return out
        return F.linear(x, self.head.weight[vocab])

    def memory(self, states: Tensor) -> list[KV]:
        """Every layer's keys and values of the encoder states [B, S, H]."""
        return [self.block(i).memory_kv(states) for i in range(1, self.config.num_layers + 1)]

    def forward(
        self,
        states: Tensor,
        mask: Tensor,
        ids: Tensor,
        return_states: bool = False,
        vocab: Tensor | None = None,
        allowed: Tensor | None = None,
    ) -> tuple[Tensor, list[Tensor]]:
        """Teacher forcing. states: [B, S, H] encoder tokens, mask: [B, S], ids: [B, T] (BOS
        first). Returns logits at every layer [L, B, T, V] (over `vocab` [C] when given, with
        the entries a page may not say, allowed [B, C] False, at -inf) and, with
        return_states, the embeddings and every layer's outputs (L + 1 of [B, T, H])."""
        x = self.embed_at(ids, 0)
        outs, logits = [x], []
        for i, mem in enumerate(self.memory(states), start=1):
            x, _ = self.block(i)(x, None, mem, mask)
            logits.append(self.exit_logits(i, x, vocab))
            outs.append(x)
        out = torch.stack(logits)
        if allowed is not None:
            out = out.masked_fill(~allowed[None, :, None, :], float("-inf"))
        return out, outs if return_states else []


IGNORE = -100  # a target position that costs nothing (padding)


def deed_loss(logits: Tensor, targets: Tensor, ignore: int = IGNORE) -> Tensor:
    """DEED's deep supervision, L_avg + L_N: the mean over layers of the token cross-entropy,
    plus the last layer's once more. logits: [L, B, T, V], targets: [B, T]."""
    layers = logits.shape[0]
    flat = logits.reshape(layers, -1, logits.shape[-1])
    per_layer = torch.stack(
        [F.cross_entropy(flat[i], targets.reshape(-1), ignore_index=ignore) for i in range(layers)]
    )
    return per_layer.mean() + per_layer[-1]


# -- 5. incremental decoding with step-level exits -------------------------------------------


@dataclass(frozen=True)
class Step:
    token: int
    layer: int  # the 1-based decoder layer whose exit emitted it
    confidence: float  # calibrated probability of the token at that exit
    layers_run: int  # layer computations this step cost, just-in-time catch-up included


ExitTest = Callable[[int, Tensor], bool]  # (layer, logits [V]) -> emit here?


class Stepper:
    """One sequence (batch 1) decoded a step at a time. h[l] holds the outputs of layer l for
    the steps computed so far (h[0]: their embeddings), cache[l] layer l's self-attention keys
    and values for the same steps; a step that left at layer e extends only h[0..e]. vocab:
    the token ids it may say ([C]; None: the whole vocabulary)."""

    def __init__(
        self, decoder: MultiExitDecoder, states: Tensor, mask: Tensor, vocab: Tensor | None = None
    ) -> None:
        assert states.shape[0] == 1, "a Stepper decodes one sequence"
        self.decoder, self.mask, self.vocab = decoder, mask, vocab
        self.memory = decoder.memory(states)
        self.h: list[list[Tensor]] = [[] for _ in range(decoder.config.num_layers + 1)]
        self.cache: list[KV | None] = [None] * (decoder.config.num_layers + 1)

    def _run(self, layer: int, x: Tensor) -> Tensor:
        """Layer `layer` on new positions x [1, n, H]; extends its states and cache."""
        y, self.cache[layer] = self.decoder.block(layer)(
            x, self.cache[layer], self.memory[layer - 1], self.mask
        )
        self.h[layer].extend(y.split(1, dim=1))
        return y

    def _catch_up(self, layer: int, step: int) -> int:
        """Compute layer `layer` for the earlier steps that left below it (just in time)."""
        start = len(self.h[layer])
        if start < step:
            self._run(layer, torch.cat(self.h[layer - 1][start:step], dim=1))
        return step - start

    @torch.inference_mode()
    def step(self, token: int, should_exit: ExitTest, temperatures: list[float]) -> Step:
        """Feed `token` (the previous output, or BOS) and emit the next one at the first layer
        whose exit accepts; the last layer always emits."""
        t = len(self.h[0])
        ids = torch.tensor([[token]], device=self.mask.device)
        self.h[0].append(self.decoder.embed_at(ids, t))
        last, run = self.decoder.config.num_layers, 0
        for layer in range(1, last + 1):
            run += self._catch_up(layer, t) + 1
            y = self._run(layer, self.h[layer - 1][t])
            logits = self.decoder.exit_logits(layer, y[0, -1], self.vocab)
            logits = logits / temperatures[layer - 1]
            if layer == last or should_exit(layer, logits):
                probs = torch.softmax(logits.float(), -1)
                confidence, best = probs.max(-1)
                token = int(best) if self.vocab is None else int(self.vocab[best])
                return Step(token, layer, float(confidence), run)
        raise AssertionError("unreachable: the last layer always emits")

    def states(self, layer: int) -> Tensor:
        """Layer `layer`'s outputs for the steps that have them: [1, n, H]."""
        return torch.cat(self.h[layer], dim=1)
