"""Multi-exit LayoutLMv3: one encoder, two streams, an exit after the embeddings and every layer.

Read top to bottom:
  1. MultiExitConfig  - the typed config (MiniLM-shaped defaults) and the exit names it implies.
  2. ExitHead         - the paper's ramp: dropout, Linear(d, d), tanh, dropout, Linear(out).
  3. MultiExitLayoutLMv3
       embed_image / embed_text      - the backbone's own embeddings, unchanged
       run_layer                     - one encoder layer of transformers' LayoutLMv3Model
       vision_steps / multimodal_steps - generators that yield one exit at a time, so a caller can
                                       stop computing after any exit (real early exit, not a
                                       simulation from full-depth logits); their states'
                                       select() drops a batch's samples between two exits
       forward                       - every exit at once, for training and calibration

Two streams share the encoder weights (Hamed et al. exits + MuE's per-modality view):
  vision stream      : [CLS_img, patches]                  -> exits vision.1 .. vision.L
  multimodal stream  : [CLS, words..., SEP, CLS_img, patches] -> exits mm.1 .. mm.L (mm.L = final)
The vision stream needs no OCR, so a confident vision exit skips OCR altogether. The patch
embeddings are computed once and reused by the multimodal stream.
Embedding exits: emb.vision_avg (before OCR), emb.text_avg and emb.concat (after OCR).
Layer exits read the mean of the stream's real tokens, not the CLS token: in a MiniLM-initialised
stack the CLS state says little before the last layers (on validation after one epoch, CLS
exits at mm.1-mm.3 stayed at chance while the text-average exit reached 86%).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import LayoutLMv3Config, LayoutLMv3Model
from transformers.models.layoutlmv3.modeling_layoutlmv3 import LayoutLMv3Encoder

from models.image_stem import STRIDE, Lite0Trunk
from models.plan import CascadePlan

# transformers 5.24 moved LayoutLMv3's relative attention biases out of the attention layer: the
# encoder sums the 1D and 2D tables once, divides them by sqrt(head size) and hands every layer
# one `position_bias`. 5.20-5.23 passed the two tables as `rel_pos` and `rel_2d_pos` and divided
# inside. Both releases swallow unknown keyword arguments, so calling a layer the other release's
# way silently drops the bias: run_layer follows the installed release. The lock (requirements/)
# pins one release; tests/models/test_multiexit.py checks our streams against its own forward.
_ENCODER_ADDS_POSITION_BIAS = hasattr(LayoutLMv3Encoder, "_compute_position_bias")
# The keyword arguments that carry the relative biases into an encoder layer (empty: none).
LayerBias = dict[str, Tensor]

# -- 1. config -------------------------------------------------------------------------------


@dataclass
class MultiExitConfig:
    num_labels: int = 16
    # Backbone shape: all-MiniLM-L6-v2's text stack, plus LayoutLMv3's layout and image parts.
    vocab_size: int = 30522
    hidden_size: int = 384
    num_layers: int = 6
    num_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 513  # 512 BERT positions shifted by pad_token_id + 1
    coordinate_size: int = 64  # 4 * 64 (x0, y0, x1, y1) + 2 * 64 (h, w) = 384
    shape_size: int = 64
    image_size: int = 224
    patch_size: int = 16
    pixels: str = "ink"  # image encoding, see models.inputs.image_tensor
    page_fit: str = "letterbox"  # how a page fills the model's square, see models.inputs.page_frame
    dropout: float = 0.1
    layer_norm_eps: float = 1e-12
    # LayoutLMv3-base uses relative 1D/2D attention biases; MiniLM has no weights for them.
    relative_attention: bool = False
    max_text_tokens: int = 128
    # Exits. Layers are 1-based; the last multimodal layer's exit is the final classifier.
    head: str = "ramp"  # "ramp": K-way heads; "gate": binary gates + the shared final classifier
    embedding_exits: tuple[str, ...] = ("vision_avg", "text_avg", "concat")
    vision_exits: tuple[int, ...] | None = None  # None: after every layer
    mm_exits: tuple[int, ...] | None = None
    # What a vision exit reads: "mean" of the image tokens, or "grid": every patch projected to
    # grid_dim features, flattened in place (a page's look is where its ink is; a mean forgets it).
    vision_readout: str = "mean"
    grid_dim: int = 8
    backbone_path: str | None = None  # a local Hugging Face LayoutLMv3 folder, e.g. layoutlmv3-base
    # Image patch embedding: "patch" (LayoutLMv3's linear patches) or "lite0" (EfficientNet-Lite0's
    # pretrained trunk, stride 32: models.image_stem).
    image_stem: str = "patch"

    def __post_init__(self) -> None:
        self.embedding_exits = tuple(self.embedding_exits)
        if self.vision_readout not in ("mean", "grid"):
            raise ValueError(
                f"vision_readout must be 'mean' or 'grid', not {self.vision_readout!r}"
            )
        if self.image_stem not in ("patch", "lite0"):
            raise ValueError(f"image_stem must be 'patch' or 'lite0', not {self.image_stem!r}")
        if self.image_stem == "lite0" and self.patch_size != STRIDE:
            raise ValueError(f"image_stem 'lite0' has stride {STRIDE}: set patch_size = {STRIDE}")
        if self.head not in ("ramp", "gate"):
            raise ValueError(f"head must be 'ramp' or 'gate', not {self.head!r}")
        bad = set(self.embedding_exits) - {"vision_avg", "text_avg", "concat"}
        layers = set(range(1, self.num_layers + 1))
        if bad or not set(self.vision_layers) | set(self.mm_layers) <= layers:
            raise ValueError(f"exit placement outside the model: {bad or self.vision_exits}")

    @property
    def vision_layers(self) -> tuple[int, ...]:
        """Layers (1-based) with a vision exit."""
        every = range(1, self.num_layers + 1)
        return tuple(sorted(every if self.vision_exits is None else self.vision_exits))

    @property
    def mm_layers(self) -> tuple[int, ...]:
        """Layers (1-based) with a multimodal exit; always the last (the final classifier)."""
        chosen = range(1, self.num_layers + 1) if self.mm_exits is None else self.mm_exits
        return tuple(sorted(set(chosen) | {self.num_layers}))

    @property
    def final_exit(self) -> str:
        return self.plan.final.name

    @property
    def plan(self) -> CascadePlan:
        """The exits, their order, stages and band: what every reader of the cascade follows."""
        return CascadePlan.build(
            self.num_layers,
            self.embedding_exits,
            self.vision_layers,
            self.mm_layers,
            gate_heads=self.head == "gate",
        )

    def exit_names(self) -> list[str]:
        """Every exit in the order a request meets them (vision first, OCR, then multimodal)."""
        return self.plan.names

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MultiExitConfig:
        """Inverse of to_dict() after a JSON round trip (lists back to tuples)."""
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        fields.setdefault("pixels", "signed")  # cards from before the ink encoding existed
        fields.setdefault("page_fit", "squash")  # cards from before pages kept their shape
        return cls(**fields)

    def backbone_config(self) -> LayoutLMv3Config:
        return LayoutLMv3Config(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_layers,
            num_attention_heads=self.num_heads,
            intermediate_size=self.intermediate_size,
            hidden_act="gelu",
            hidden_dropout_prob=self.dropout,
            attention_probs_dropout_prob=self.dropout,
            max_position_embeddings=self.max_position_embeddings,
            type_vocab_size=1,
            layer_norm_eps=self.layer_norm_eps,
            pad_token_id=0,
            bos_token_id=101,
            eos_token_id=102,
            max_2d_position_embeddings=1024,
            coordinate_size=self.coordinate_size,
            shape_size=self.shape_size,
            has_relative_attention_bias=self.relative_attention,
            has_spatial_attention_bias=self.relative_attention,
            input_size=self.image_size,
            patch_size=self.patch_size,
            num_channels=3,
        )


# -- 2. exit heads ---------------------------------------------------------------------------


class ExitHead(nn.Module):
    """Hamed et al.'s exit branch: dropout -> Linear(d, d) -> tanh -> dropout -> Linear(out)."""

    def __init__(self, d_in: int, d_out: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(d_in, d_in),
            nn.Tanh(),
            nn.Dropout(dropout),
            nn.Linear(d_in, d_out),
        )

    def forward(self, x: Tensor) -> Tensor:  # [B, d_in] -> [B, d_out]
        return self.net(x)


class GridReadout(nn.Module):
    """A vision exit's input that keeps the layout: LayerNorm, Linear(d, r) per patch, flattened
    in patch order. [B, 1 + P, d] -> [B, P * r]."""

    def __init__(self, d: int, r: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        self.proj = nn.Linear(d, r)

    def forward(self, hidden: Tensor) -> Tensor:
        return self.proj(self.norm(hidden[:, 1:])).flatten(1)


@dataclass
class ExitStep:
    """What one exit says about a batch: class logits, and for gate heads the gate logit.
    `image_similarity` / `text_similarity` are MuE's cosine between this layer's and the previous
    layer's token states, per sample (NaN where there is no previous layer or no such tokens)."""

    name: str
    logits: Tensor  # [B, K]
    gate: Tensor | None = None  # [B], logit of "the final classifier is right here"
    image_similarity: Tensor | None = None  # [B]
    text_similarity: Tensor | None = None  # [B]
    features: Tensor | None = None  # [B, d_in], the pooled state the head reads (models.ood)


@dataclass
class MultiExitOutput:
    steps: dict[str, ExitStep] = field(default_factory=dict)

    @property
    def logits(self) -> dict[str, Tensor]:
        return {name: s.logits for name, s in self.steps.items()}


def _rows(bias: LayerBias, keep: Tensor) -> LayerBias:
    return {k: v[keep] for k, v in bias.items()}


@dataclass
class VisionState:
    """Where the vision stream stands. The generator reads it afresh at every layer, so a caller
    may drop samples between two exits (select) and the rest go on without them."""

    hidden: Tensor  # [B, 1 + P, d]
    bias: LayerBias  # the relative attention biases, [B, ...] each
    layer: int = 0

    def select(self, keep: Tensor) -> None:
        """Keep only the samples at `keep` ([B'] indices), in that order."""
        self.hidden, self.bias = self.hidden[keep], _rows(self.bias, keep)


@dataclass
class MultimodalState:
    """Where the multimodal stream stands; lets a caller run it one layer at a time, and drop
    samples between two exits (select)."""

    hidden: Tensor  # [B, T + 1 + P, d]
    mask: Tensor  # [B, 1, 1, T + 1 + P] additive attention mask
    text_mask: Tensor  # [B, T] 1 for real text tokens
    n_text: int
    pool_weights: Tensor  # [B, T + 1 + P, 1] 1 / (real tokens) on real tokens, 0 on padding
    bias: LayerBias = field(default_factory=dict)  # relative attention biases, [B, ...] each
    layer: int = 0

    def select(self, keep: Tensor) -> None:
        """Keep only the samples at `keep` ([B'] indices), in that order."""
        self.hidden, self.mask = self.hidden[keep], self.mask[keep]
        self.text_mask, self.pool_weights = self.text_mask[keep], self.pool_weights[keep]
        self.bias = _rows(self.bias, keep)

    def row(self, i: int) -> MultimodalState:
        """Sample i alone, as a state of its own (the rest of the batch may go on meanwhile)."""
        keep = torch.tensor([i], device=self.hidden.device)
        return MultimodalState(
            self.hidden[keep],
            self.mask[keep],
            self.text_mask[keep],
            self.n_text,
            self.pool_weights[keep],
            _rows(self.bias, keep),
            self.layer,
        )


# -- 3. the model ----------------------------------------------------------------------------


class MultiExitLayoutLMv3(nn.Module):
    def __init__(self, config: MultiExitConfig) -> None:
        super().__init__()
        self.config = config
        if config.backbone_path:
            self.backbone = LayoutLMv3Model.from_pretrained(config.backbone_path)
            self._adopt_backbone_shape()
        else:
            self.backbone = LayoutLMv3Model(config.backbone_config())
        d, k, p = config.hidden_size, config.num_labels, config.dropout
        if config.image_stem == "lite0":  # same [B, d, 7, 7] grid as the 32 px patches
            self.backbone.patch_embed.add_module("proj", Lite0Trunk(d, config.pixels))
        out = k if config.head == "ramp" else 1
        heads: dict[str, ExitHead] = {}
        readouts: dict[str, GridReadout] = {}
        patches = (config.image_size // config.patch_size) ** 2
        for exit in config.plan.exits:
            key = exit.name.replace(".", "_")
            d_in = 2 * d if exit.name == "emb.concat" else d
            if config.vision_readout == "grid" and exit.stage == "vision" and exit.layer > 0:
                readouts[key] = GridReadout(d, config.grid_dim)
                d_in = patches * config.grid_dim
                heads[key] = ExitHead(d_in, k if config.head == "ramp" else k + 1, p)
                continue
            heads[key] = ExitHead(d_in, out, p)
        if config.head == "gate":  # the final classifier, shared by every gate
            heads["classifier"] = ExitHead(d, k, p)
        self.heads = nn.ModuleDict(heads)
        self.readouts = nn.ModuleDict(readouts)

    def _adopt_backbone_shape(self) -> None:
        bc, c = self.backbone.config, self.config
        c.hidden_size, c.num_layers, c.num_heads = (
            bc.hidden_size,
            bc.num_hidden_layers,
            bc.num_attention_heads,
        )
        c.intermediate_size, c.vocab_size = bc.intermediate_size, bc.vocab_size
        c.image_size, c.patch_size = _side(bc.input_size), _side(bc.patch_size)
        c.relative_attention = bool(bc.has_relative_attention_bias)
        c.pixels = "signed"  # what its pretrained patch embedding was trained on
        c.vision_exits = c.mm_exits = None
        c.__post_init__()

    def image_trunk(self) -> Lite0Trunk | None:
        """The pretrained convolutional patch embedding, when image_stem is "lite0"."""
        proj = self.backbone.patch_embed.proj
        return proj if isinstance(proj, Lite0Trunk) else None

    # -- embeddings (the backbone's own) ---------------------------------------------------
    def embed_image(self, pixel_values: Tensor) -> Tensor:
        """[B, 3, H, W] -> [B, 1 + P, d]: image CLS + patches, position-embedded and normed."""
        return self.backbone.forward_image(pixel_values)

    def embed_text(self, input_ids: Tensor, bbox: Tensor) -> Tensor:
        """[B, T] ids and [B, T, 4] boxes (0-1000) -> [B, T, d]."""
        return self.backbone.embeddings(input_ids=input_ids, bbox=bbox)

    def run_layer(
        self,
        i: int,
        hidden: Tensor,
        mask: Tensor | None,
        bias: LayerBias | None = None,
    ) -> Tensor:
        """Encoder layer i (0-based) of the backbone: [B, N, d] -> [B, N, d]."""
        return self.backbone.encoder.layer[i](hidden, mask, **(bias or {}))

    def _bias(self, bbox: Tensor | None, positions: Tensor) -> LayerBias:
        """The relative 1D (positions [B, N]) and 2D (bbox [B, N, 4]) attention biases, as the
        installed transformers release passes them to a layer."""
        enc = self.backbone.encoder
        if not self.config.relative_attention:
            return {}
        if _ENCODER_ADDS_POSITION_BIAS:  # [B, heads, N, N], already scaled
            return {"position_bias": enc._compute_position_bias(positions, bbox)}
        return {"rel_pos": enc._cal_1d_pos_emb(positions), "rel_2d_pos": enc._cal_2d_pos_emb(bbox)}

    def _head(self, name: str, state: Tensor) -> ExitStep:
        key = name.replace(".", "_")
        head = self.heads[key]
        if self.config.head == "ramp":
            return ExitStep(name, head(state), features=state)
        if key in self.readouts:  # a grid state is not the classifier's: its head gives both
            both = head(state)
            return ExitStep(name, both[:, :-1], gate=both[:, -1], features=state)
        gate = head(state).squeeze(-1)
        return ExitStep(name, self.heads["classifier"](state), gate=gate, features=state)

    # -- the vision stream --------------------------------------------------------------------
    def start_vision(self, image_tokens: Tensor) -> tuple[VisionState, list[ExitStep]]:
        """The vision stream before its first layer, and the image embedding's exit.
        image_tokens: embed_image() output, [B, 1 + P, d]."""
        hidden = self.backbone.dropout(self.backbone.LayerNorm(image_tokens))
        steps = []
        if "vision_avg" in self.config.embedding_exits:
            steps.append(self._head("emb.vision_avg", hidden[:, 1:].mean(1)))
        b, n = hidden.shape[:2]
        bias = self._bias(self._visual_bbox(b), torch.arange(n, device=hidden.device).expand(b, n))
        return VisionState(hidden, bias), steps

    def vision_layers(self, state: VisionState) -> Iterator[ExitStep]:
        """Advance the vision stream layer by layer, yielding each vision exit as it is reached
        (no layer past the last vision exit)."""
        c = self.config
        while state.layer < max(c.vision_layers, default=0):
            i = state.layer
            previous = state.hidden
            state.hidden = self.run_layer(i, state.hidden, None, state.bias)
            state.layer += 1
            if state.layer in c.vision_layers:
                key = f"vision_{state.layer}"
                hidden = state.hidden
                readout = self.readouts[key](hidden) if key in self.readouts else hidden.mean(1)
                step = self._head(f"vision.{state.layer}", readout)
                step.image_similarity = _cosine(hidden[:, 1:], previous[:, 1:]) if i else None
                yield step

    def vision_steps(self, image_tokens: Tensor) -> Iterator[ExitStep]:
        """Run the image alone through the layers, yielding each vision exit as it is reached.
        image_tokens: embed_image() output, [B, 1 + P, d]."""
        state, first = self.start_vision(image_tokens)
        yield from first
        yield from self.vision_layers(state)

    def _visual_bbox(self, batch: int) -> Tensor | None:
        vb = getattr(self.backbone, "visual_bbox", None)
        return None if vb is None else vb.unsqueeze(0).expand(batch, -1, -1)

    # -- the multimodal stream ----------------------------------------------------------------
    def start_multimodal(
        self, image_tokens: Tensor, input_ids: Tensor, bbox: Tensor, attention_mask: Tensor
    ) -> tuple[MultimodalState, list[ExitStep]]:
        """Embed the OCR text, join it to the (already computed) image tokens, and give the
        text embedding exits. attention_mask: [B, T], 1 for real tokens."""
        c = self.config
        text = self.embed_text(input_ids, bbox)  # [B, T, d]
        steps = []
        m = attention_mask.unsqueeze(-1).to(text.dtype)
        text_avg = (text * m).sum(1) / m.sum(1).clamp(min=1)
        names = c.exit_names()
        if "emb.text_avg" in names:
            steps.append(self._head("emb.text_avg", text_avg))
        if "emb.concat" in names:
            vision_avg = image_tokens[:, 1:].mean(1)
            steps.append(self._head("emb.concat", torch.cat([text_avg, vision_avg], -1)))
        hidden = self.backbone.dropout(self.backbone.LayerNorm(torch.cat([text, image_tokens], 1)))
        full = torch.cat([attention_mask, attention_mask.new_ones(image_tokens.shape[:2])], 1)
        mask = (1.0 - full[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        weights = full.to(hidden.dtype).unsqueeze(-1)
        weights = weights / weights.sum(1, keepdim=True)
        b, n = hidden.shape[:2]
        bias: LayerBias = {}
        if c.relative_attention:
            n_text = text.shape[1]
            positions = torch.cat([torch.arange(n_text), torch.arange(n - n_text)])
            full_bbox = torch.cat([bbox, self._visual_bbox(b)], 1)  # type: ignore[list-item]
            bias = self._bias(full_bbox, positions.to(hidden.device).expand(b, n))
        state = MultimodalState(hidden, mask, attention_mask, text.shape[1], weights, bias)
        return state, steps

    def multimodal_steps(self, state: MultimodalState) -> Iterator[ExitStep]:
        """Advance the multimodal stream layer by layer, yielding each mm exit as it is reached."""
        c = self.config
        while state.layer < c.num_layers:
            i = state.layer
            previous = state.hidden
            state.hidden = self.run_layer(i, state.hidden, state.mask, state.bias)
            state.layer += 1
            if state.layer in c.mm_layers:
                step = self._head(f"mm.{state.layer}", _pool(state.hidden, state.pool_weights))
                if i:
                    t = state.n_text
                    step.text_similarity = _cosine(
                        state.hidden[:, :t], previous[:, :t], state.text_mask
                    )
                    step.image_similarity = _cosine(state.hidden[:, t + 1 :], previous[:, t + 1 :])
                yield step

    # -- everything at once -----------------------------------------------------------------------
    def forward(
        self, pixel_values: Tensor, input_ids: Tensor, bbox: Tensor, attention_mask: Tensor
    ) -> MultiExitOutput:
        """All exits for a batch: pixel_values [B, 3, H, W], input_ids [B, T], bbox [B, T, 4],
        attention_mask [B, T]."""
        out = MultiExitOutput()
        image_tokens = self.embed_image(pixel_values)
        for step in self.vision_steps(image_tokens):
            out.steps[step.name] = step
        state, steps = self.start_multimodal(image_tokens, input_ids, bbox, attention_mask)
        for step in [*steps, *self.multimodal_steps(state)]:
            out.steps[step.name] = step
        return out


def _pool(hidden: Tensor, weights: Tensor) -> Tensor:
    """Masked mean of token states: [B, N, d], [B, N, 1] -> [B, d]."""
    return (hidden * weights).sum(1)


def _side(size: int | list[int] | tuple[int, int]) -> int:
    """Square sizes only: the side of an int-or-pair size."""
    return size if isinstance(size, int) else int(size[0])


def _cosine(a: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
    """Per-sample cosine similarity of two [B, N, d] token states, flattened over tokens (MuE)."""
    if mask is not None:
        keep = mask.unsqueeze(-1).to(a.dtype)
        a, b = a * keep, b * keep
    return F.cosine_similarity(a.flatten(1), b.flatten(1), dim=1)
