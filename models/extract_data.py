"""Training and evaluation pairs for the field decoder: a page's memory and its fields as the
decoder's target ids (models.fields). The memory is the frozen classifier's multimodal stream run
to its last layer on the page's words (its text budget, then the image tokens), followed by the
embeddings alone (word, position, layout) of the words past that budget: a total at the foot of
an invoice is past the first 128 tokens the classifier reads, and the decoder only needs to find
and copy it, which its cross-attention can do on the embeddings. Encoding a page costs an encoder
pass, so the memories of a split are computed once and cached beside the run (fp16)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from tqdm import tqdm

from models.data.labels import CLASSES
from models.dataset import model_pages
from models.decoder import IGNORE
from models.fields import encode_target, field_keys, page_vocabulary
from models.inputs import TextInputs, encode_words
from models.multiexit import MultiExitLayoutLMv3


@dataclass
class Pair:
    page: str  # the page image's path
    label: str
    fields: dict[str, str]
    states: Tensor  # [N, H] fp16: text tokens, then the image tokens
    mask: Tensor  # [N] bool, True on real tokens
    target: list[int]  # BOS ... EOS
    vocab: list[int]  # the token ids the decoder may say on this page (models.fields)


TAIL_TOKENS = 512  # the whole page's words the memory holds at most (BERT's positions)


def tail_budget(model: MultiExitLayoutLMv3) -> int:
    """Tokens of a page the memory may hold: TAIL_TOKENS, within the position embeddings."""
    return min(TAIL_TOKENS, model.config.max_position_embeddings - 1)


@torch.inference_mode()
def encode_memory(
    model: MultiExitLayoutLMv3, pixels: Tensor, ids: Tensor, bbox: Tensor, attention: Tensor
) -> tuple[Tensor, Tensor]:
    """The multimodal stream's last-layer token states and their mask for a batch:
    [B, N, H], [B, N] bool."""
    image = model.embed_image(pixels)
    state, _ = model.start_multimodal(image, ids, bbox, attention)
    for _ in model.multimodal_steps(state):
        pass
    mask = torch.cat([attention.bool(), attention.new_ones(image.shape[:2]).bool()], 1)
    return state.hidden, mask


@torch.inference_mode()
def tail_memory(model: MultiExitLayoutLMv3, page: TextInputs, head: int) -> Tensor:
    """Embeddings of the page's tokens past the first `head` (the encoder's text budget, [SEP]
    excluded), normalised as the encoder normalises its input: [T', H]."""
    ids, bbox = page.input_ids[None], page.bbox[None]
    embedded = model.backbone.LayerNorm(model.embed_text(ids, bbox))[0]
    return embedded[head - 1 : -1]  # past the head's last word, without the final [SEP]


def page_tokens(png: Path, size: tuple[int, int], model: MultiExitLayoutLMv3) -> TextInputs:
    """All of a page's ground-truth words as tokens, up to TAIL_TOKENS."""
    words = json.loads(png.with_suffix(".json").read_text())["words"]
    texts, boxes = [w["text"] for w in words], [w["box"] for w in words]
    return encode_words(texts, boxes, size, tail_budget(model), model.config.page_fit)


def extraction_pairs(
    model: MultiExitLayoutLMv3,
    root: Path,
    max_length: int,
    per_class: int | None = None,
    batch: int = 8,
    progress: bool = True,
) -> list[Pair]:
    """Every page of `root`'s classes that have fields, encoded (ground-truth words)."""
    labels = [c for c in CLASSES if field_keys(c)]
    pages = model_pages(root, model.config, per_class=per_class, labels=labels)
    out: list[Pair] = []
    model.eval()
    for start in tqdm(range(0, len(pages), batch), desc=f"encode {root}", disable=not progress):
        examples = [pages[i] for i in range(start, min(start + batch, len(pages)))]
        width = max(len(e.text.input_ids) for e in examples)
        ids = torch.stack([_pad(e.text.input_ids, width) for e in examples])
        bbox = torch.stack([_pad(e.text.bbox, width) for e in examples])
        attention = torch.stack([_pad(e.text.attention_mask, width) for e in examples])
        pixels = torch.stack([e.pixel_values for e in examples])
        states, mask = encode_memory(model, pixels, ids, bbox, attention)
        for j, e in enumerate(examples):
            png = pages.pages[start + j][0]
            record = json.loads(png.with_suffix(".json").read_text())
            label = CLASSES[e.label]
            fields = {k: str(v) for k, v in record.get("fields", {}).items()}
            tokens = page_tokens(png, tuple(record["size"]), model)
            tail = tail_memory(model, tokens, len(e.text.input_ids))
            memory = torch.cat([states[j][mask[j]], tail]).half()
            target = encode_target(label, fields, max_length)
            ones = torch.ones(memory.shape[0], dtype=torch.bool)
            vocab = page_vocabulary(tokens.input_ids.tolist())
            out.append(Pair(str(png), label, fields, memory, ones, target, vocab))
    return out


def _pad(t: Tensor, width: int) -> Tensor:
    """Zero-pad the first dimension of t to width."""
    extra = width - t.shape[0]
    return torch.nn.functional.pad(t, (0, 0) * (t.dim() - 1) + (0, extra))


def cached_pairs(
    model: MultiExitLayoutLMv3,
    root: Path,
    cache: Path,
    max_length: int,
    per_class: int | None = None,
) -> list[Pair]:
    """extraction_pairs, read from `cache` when it holds them (delete it to re-encode)."""
    if cache.exists():
        rows = torch.load(cache, weights_only=False)
        return [Pair(**r) for r in rows]
    pairs = extraction_pairs(model, root, max_length, per_class)
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save([p.__dict__ for p in pairs], cache)
    return pairs


@dataclass
class Batch:
    states: Tensor  # [B, N, H] float
    mask: Tensor  # [B, N] True on real memory tokens
    inputs: Tensor  # [B, T] decoder inputs (BOS, target tokens), PAD-padded
    vocab: Tensor  # [C] the token ids any page of the batch may say
    allowed: Tensor  # [B, C] which of them each page may say
    targets: Tensor  # [B, T] next tokens as indices into vocab; IGNORE on padding


def collate(pairs: list[Pair], pad_id: int) -> Batch:
    """A batch, the decoder's vocabulary cut to its pages' own (every target token included:
    a value the page spells otherwise must still be learnable)."""
    n = max(p.states.shape[0] for p in pairs)
    t = max(len(p.target) for p in pairs) - 1
    vocab = sorted({i for p in pairs for i in (*p.vocab, *p.target[1:])})
    index = {tok: j for j, tok in enumerate(vocab)}
    states = torch.zeros(len(pairs), n, pairs[0].states.shape[1])
    mask = torch.zeros(len(pairs), n, dtype=torch.bool)
    inputs = torch.full((len(pairs), t), pad_id, dtype=torch.long)
    targets = torch.full((len(pairs), t), IGNORE, dtype=torch.long)
    allowed = torch.zeros(len(pairs), len(vocab), dtype=torch.bool)
    for i, p in enumerate(pairs):
        states[i, : p.states.shape[0]] = p.states.float()
        mask[i, : p.states.shape[0]] = True
        inputs[i, : len(p.target) - 1] = torch.tensor(p.target[:-1])
        targets[i, : len(p.target) - 1] = torch.tensor([index[x] for x in p.target[1:]])
        allowed[i, [index[x] for x in {*p.vocab, *p.target[1:]}]] = True
    return Batch(states, mask, inputs, torch.tensor(vocab), allowed, targets)
