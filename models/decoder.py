"""Multi-exit pointer decoder (DEED, Tang et al., NAACL 2024): a page's key fields generated
token by token. A token is either said from a small fixed vocabulary (the field keys, the
separators, EOS) or copied from a position of the page's words (a pointer, so a value is the
page's own tokens in the page's own order), and each step leaves at the first decoder layer whose
exit is confident enough.

Read top to bottom:
  1. DecoderConfig     - the typed config.
  2. DecoderLayer      - pre-LN causal self-attention, cross-attention to the encoder's token
                         states, feed-forward; it runs a chunk of new positions against its own
                         KV cache.
  3. ExitAdapter       - DEED's light per-layer adaptation module in front of the one shared head.
  4. Page              - the encoder memory as the decoder reads it: each token with its
                         neighbours in reading order, the pointer's keys, and every layer's
                         cross-attention keys and values, computed when that layer first runs.
  5. MultiExitDecoder  - forward: teacher forcing, entry logits at every layer (deep supervision).
  6. Stepper           - incremental decoding with step-level exits. Before layer l runs for step t,
                         the layer-l states of earlier steps that left below l are computed just in
                         time from their layer l-1 states, so step t attends to exactly the keys and
                         values full depth would have (DEED; MuE copies the exit layer's instead).

Shapes: B batch, T decoder positions, S memory tokens (the page's tokens in reading order first,
then the rest), H hidden, F fixed token ids, E = F + S entries (say one, or copy one), L layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

KV = tuple[Tensor, Tensor]  # keys, values: [B, heads, positions, head size]

# -- 1. config -------------------------------------------------------------------------------


@dataclass
class DecoderConfig:
    vocab_size: int  # the encoder's WordPiece table, which the embedding and head are tied to
    fixed: list[int] = field(default_factory=list)  # token ids said, not copied (models.fields)
    hidden_size: int = 384  # the encoder's: cross-attention reads its states as they are
    num_layers: int = 4
    num_heads: int = 6
    intermediate_size: int = 1024
    adapter_size: int = 64
    reader_window: int = 3  # the neighbours in reading order each memory token is read with
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


# -- 4. the page -----------------------------------------------------------------------------


class Reader(nn.Module):
    """Each memory token with its neighbours in reading order: the tokens past the encoder's
    text budget are bare embeddings, and a value is found by the words just before it."""

    def __init__(self, c: DecoderConfig) -> None:
        super().__init__()
        w = c.reader_window
        self.conv = nn.Conv1d(c.hidden_size, c.hidden_size, w, padding=w // 2)
        self.ln = nn.LayerNorm(c.hidden_size)

    def forward(self, states: Tensor, mask: Tensor) -> Tensor:  # [B, S, H], [B, S] -> [B, S, H]
        x = states * mask[..., None]
        return self.ln(states + self.conv(x.transpose(1, 2)).transpose(1, 2))


@dataclass
class Page:
    states: Tensor  # [B, S, H] the memory as read (Reader)
    mask: Tensor  # [B, S] True on real memory tokens
    keys: Tensor  # [B, S, H] the pointer's keys
    entry_ids: Tensor  # [B, E] the token each entry says: the fixed ids, then the copy ids
    entry_ok: Tensor  # [B, E] False on entries that cannot be said (no copy id, padding)
    kv: dict[int, KV] = field(default_factory=dict)  # layer -> cross-attention keys, values

    @property
    def fixed(self) -> int:
        return self.entry_ids.shape[1] - self.states.shape[1]


# -- 5. the decoder --------------------------------------------------------------------------


class MultiExitDecoder(nn.Module):
    fixed: Tensor  # [F] the token ids said, not copied (a buffer: the config stores them)

    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        c = self.config = config
        h = c.hidden_size
        self.embed = nn.Embedding(c.vocab_size, h, padding_idx=c.pad_id)
        self.position = nn.Embedding(c.max_length, h)
        self.reader = Reader(c)
        self.copied = nn.Linear(h, h)  # a copied token's input also carries where it came from
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.num_layers))
        self.adapters = nn.ModuleList(ExitAdapter(c) for _ in range(c.num_layers))
        self.head = nn.Linear(h, c.vocab_size, bias=False)
        self.head.weight = self.embed.weight  # the shared head, tied to the token embedding
        self.pointer_q, self.pointer_k = nn.Linear(h, h), nn.Linear(h, h)
        # A value goes on where it was copied from: a bonus per exit for the next position.
        self.follow = nn.Parameter(torch.full((c.num_layers,), 3.0))
        self.register_buffer("fixed", torch.tensor(c.fixed, dtype=torch.long), persistent=False)
        self.drop = nn.Dropout(c.dropout)

    def block(self, layer: int) -> DecoderLayer:
        """Decoder layer `layer` (1-based)."""
        return cast(DecoderLayer, self.layers[layer - 1])

    def adapter(self, layer: int) -> ExitAdapter:
        return cast(ExitAdapter, self.adapters[layer - 1])

    def read(self, states: Tensor, mask: Tensor, copy_ids: Tensor) -> Page:
        """states: [B, S, H] encoder tokens, mask: [B, S], copy_ids: [B, S] the token id at each
        memory position that may be copied (-1: none), the page's tokens in reading order."""
        read = self.reader(states, mask)
        fixed = self.fixed.expand(states.shape[0], -1)
        ok = torch.cat([torch.ones_like(fixed, dtype=torch.bool), mask & (copy_ids >= 0)], 1)
        entry_ids = torch.cat([fixed, copy_ids.clamp(min=0)], 1)
        return Page(read, mask, self.pointer_k(read), entry_ids, ok)

    def memory_kv(self, page: Page, layer: int) -> KV:
        if layer not in page.kv:
            page.kv[layer] = self.block(layer).memory_kv(page.states)
        return page.kv[layer]

    def embed_at(self, page: Page, ids: Tensor, source: Tensor, start: int) -> Tensor:
        """ids: [B, T] at positions start .. start + T - 1, source: [B, T] the memory position
        each was copied from (-1: said) -> [B, T, H]."""
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        index = source.clamp(min=0)[..., None].expand(-1, -1, page.states.shape[-1])
        where = self.copied(page.states.gather(1, index)) * (source >= 0)[..., None]
        return self.drop(self.embed(ids) + self.position(positions)[None] + where)

    def exit_logits(self, layer: int, x: Tensor, page: Page, source: Tensor) -> Tensor:
        """Layer `layer`'s (1-based) exit: states [B, T, H] of steps fed tokens copied from
        `source` [B, T] -> entry logits [B, T, E] (-inf where an entry cannot be said)."""
        a = self.adapter(layer)(x)
        said = F.linear(a, self.head.weight[self.fixed])  # [B, T, F]
        pointed = self.pointer_q(a) @ page.keys.transpose(1, 2) / math.sqrt(a.shape[-1])
        positions = torch.arange(page.states.shape[1], device=x.device)
        follows = (positions == source[..., None] + 1) & (source[..., None] >= 0)  # [B, T, S]
        pointed = pointed + self.follow[layer - 1] * follows
        logits = torch.cat([said, pointed], -1)
        return logits.masked_fill(~page.entry_ok[:, None, :], float("-inf"))

    def forward(
        self, page: Page, ids: Tensor, source: Tensor, return_states: bool = False
    ) -> tuple[Tensor, list[Tensor]]:
        """Teacher forcing. ids: [B, T] (BOS first), source: [B, T] (embed_at). Returns entry
        logits at every layer [L, B, T, E] and, with return_states, the embeddings and every
        layer's outputs (L + 1 of [B, T, H])."""
        x = self.embed_at(page, ids, source, 0)
        outs, logits = [x], []
        for i in range(1, self.config.num_layers + 1):
            x, _ = self.block(i)(x, None, self.memory_kv(page, i), page.mask)
            logits.append(self.exit_logits(i, x, page, source))
            outs.append(x)
        return torch.stack(logits), outs if return_states else []


def deed_loss(logits: Tensor, gold: Tensor) -> Tensor:
    """DEED's deep supervision, L_avg + L_N: the mean over layers of the token cross-entropy,
    plus the last layer's once more. logits: [L, B, T, E]; gold: [B, T, E], the entries that
    say the right token (usually one; a step with none, padding, costs nothing)."""
    keep = gold.any(-1)  # [B, T]
    every = torch.logsumexp(logits, -1)  # [L, B, T]
    right = torch.logsumexp(logits.masked_fill(~gold, float("-inf")), -1)
    per_layer = (every - right)[:, keep].mean(-1)  # [L]
    return per_layer.mean() + per_layer[-1]


# -- 6. incremental decoding with step-level exits -------------------------------------------


@dataclass(frozen=True)
class Step:
    token: int
    source: int  # the memory position it was copied from; -1: said from the fixed vocabulary
    layer: int  # the 1-based decoder layer whose exit emitted it
    confidence: float  # calibrated probability of its entry at that exit
    layers_run: int  # layer computations this step cost, just-in-time catch-up included


Thresholds = Callable[[int], float]  # layer -> the confidence this step needs there (inf: none)


class Stepper:
    """One sequence (batch 1) decoded a step at a time. h[l] holds the outputs of layer l for
    the steps computed so far (h[0]: their embeddings), cache[l] layer l's self-attention keys
    and values for the same steps; a step that left at layer e extends only h[0..e]."""

    def __init__(self, decoder: MultiExitDecoder, page: Page) -> None:
        assert page.states.shape[0] == 1, "a Stepper decodes one sequence"
        self.decoder, self.page = decoder, page
        self.h: list[list[Tensor]] = [[] for _ in range(decoder.config.num_layers + 1)]
        self.cache: list[KV | None] = [None] * (decoder.config.num_layers + 1)

    def _run(self, layer: int, x: Tensor) -> Tensor:
        """Layer `layer` on new positions x [1, n, H]; extends its states and cache."""
        memory = self.decoder.memory_kv(self.page, layer)
        y, self.cache[layer] = self.decoder.block(layer)(
            x, self.cache[layer], memory, self.page.mask
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
    def step(self, token: int, source: int, thresholds: Thresholds, temps: list[float]) -> Step:
        """Feed `token` (the previous output, or BOS) copied from `source` and emit the next
        one at the first layer whose exit is confident enough; the last layer always emits,
        and an exit whose threshold is inf is not even computed."""
        t, d = len(self.h[0]), self.decoder
        ids = torch.tensor([[token]], device=self.page.mask.device)
        src = torch.tensor([[source]], device=self.page.mask.device)
        self.h[0].append(d.embed_at(self.page, ids, src, t))
        last, run = d.config.num_layers, 0
        for layer in range(1, last + 1):
            run += self._catch_up(layer, t) + 1
            y = self._run(layer, self.h[layer - 1][t])
            tau = 0.0 if layer == last else thresholds(layer)
            if not math.isfinite(tau):
                continue
            logits = d.exit_logits(layer, y[:, -1:], self.page, src)[0, 0] / temps[layer - 1]
            confidence, best = torch.softmax(logits.float(), -1).max(-1)
            if float(confidence) >= tau:
                entry, fixed = int(best), self.page.fixed
                said = int(self.page.entry_ids[0, entry])
                return Step(said, entry - fixed if entry >= fixed else -1, layer,
                            float(confidence), run)  # fmt: skip
        raise AssertionError("unreachable: the last layer always emits")

    def states(self, layer: int) -> Tensor:
        """Layer `layer`'s outputs for the steps that have them: [1, n, H]."""
        return torch.cat(self.h[layer], dim=1)
