"""Training and evaluation pairs for the field decoder: a page's memory and its fields as the
decoder's target ids (models.fields). The memory is the frozen classifier's multimodal stream run
to its last layer on the page's words (its text budget, then the image tokens), followed by the
embeddings alone (word, position, layout) of the words past that budget: a total at the foot of
an invoice is past the first 128 tokens the classifier reads, and the decoder only needs to find
and copy it, which its pointer can do on the embeddings. The memory is laid out for the pointer
(page_memory): the page's tokens in reading order, then the rest. Encoding a page costs an
encoder pass, so the memories of a split are computed once and cached beside the run (fp16)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from tqdm import tqdm

from models.data.labels import CLASSES
from models.dataset import model_pages
from models.fields import Target, encode_target, field_keys
from models.inputs import TextInputs, encode_words, image_tensor
from models.multiexit import MultiExitLayoutLMv3


@dataclass
class Pair:
    page: str  # the page image's path
    label: str
    fields: dict[str, str]
    states: Tensor  # [N, H] fp16 (page_memory)
    copy_ids: Tensor  # [N] the token at each position that may be copied; -1: none
    target: list[int]  # BOS ... EOS
    sources: list[int]  # per target token: the memory position it is copied from; -1: said


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


def page_memory(hidden: Tensor, head: int, tail: Tensor, page_ids: Tensor) -> tuple[Tensor, Tensor]:
    """The decoder's memory laid out for its pointer. hidden: [head + I, H] the multimodal
    stream's real tokens ([CLS], words, [SEP], then I image tokens); tail: [T', H] the words past
    the head (tail_memory); page_ids: [head + T'] the whole page's tokens ([CLS] .. [SEP]).
    Returns memory [N, H], the page's words in reading order first, and copy ids [N]."""
    words = torch.cat([hidden[1 : head - 1], tail.to(hidden.dtype)])
    rest = torch.cat([hidden[:1], hidden[head - 1 :]])
    copy = torch.cat([page_ids[1:-1], page_ids.new_full((rest.shape[0],), -1)])
    assert copy.shape[0] == words.shape[0] + rest.shape[0], "page_ids do not match the memory"
    return torch.cat([words, rest]), copy


def copy_sources(target: Target, copy_ids: Sequence[int]) -> list[int]:
    """Per target token, the memory position it is copied from: a value's tokens come from the
    first place the page spells the whole value; the rest (keys, separators, a value the page
    does not spell) are said (-1)."""
    sources = [-1] * len(target.ids)
    page = list(copy_ids)
    for at, value in target.values:
        n = len(value)
        found = next((j for j in range(len(page) - n + 1) if page[j : j + n] == value), None)
        if found is None or not value:
            continue
        for i in range(min(n, len(target.ids) - 1 - at)):  # a value cut by max_length
            sources[at + i] = found + i
    return sources


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
            head = len(e.text.input_ids)
            memory, copy = page_memory(states[j][mask[j]], head, tail, tokens.input_ids)
            target = encode_target(label, fields, max_length)
            sources = copy_sources(target, copy.tolist())
            out.append(Pair(str(png), label, fields, memory.half(), copy, target.ids, sources))
    return out


@torch.inference_mode()
def page_pair(
    model: MultiExitLayoutLMv3,
    png: Path,
    words: tuple[list[str], list[list[int]]],
    label: str,
    fields: dict[str, str],
    max_length: int,
) -> Pair:
    """One page encoded as the service encodes it (a grey image, its words, models.extract)."""
    c, image = model.config, Image.open(png).convert("L")
    head = encode_words(words[0], words[1], image.size, c.max_text_tokens, c.page_fit)
    pixels = image_tensor(image, c.image_size, c.pixels, c.page_fit)[None]
    text = (head.input_ids[None], head.bbox[None], head.attention_mask[None])
    states, mask = encode_memory(model, pixels, *text)
    full = encode_words(words[0], words[1], image.size, tail_budget(model), c.page_fit)
    tail = tail_memory(model, full, len(head.input_ids))
    memory, copy = page_memory(states[0][mask[0]], len(head.input_ids), tail, full.input_ids)
    target = encode_target(label, fields, max_length)
    sources = copy_sources(target, copy.tolist())
    return Pair(str(png), label, fields, memory.half(), copy, target.ids, sources)


LABELS = "fields.json"  # a real-page folder's hand-labelled fields (data/realval/README.md)


def labelled_pairs(
    model: MultiExitLayoutLMv3, folder: Path, max_length: int, engine: str = "tesseract"
) -> list[Pair]:
    """The pages of a real folder whose fields were labelled by hand, read through OCR."""
    rows = json.loads((folder / LABELS).read_text())
    out = []
    for row in tqdm(rows, desc=f"encode {folder}", leave=False):
        png = folder / row["class"] / f"{row['id']}.png"
        read = json.loads(png.with_name(f"{png.stem}.ocr-{engine}.json").read_text())["words"]
        words = ([w["text"] for w in read], [w["box"] for w in read])
        out.append(page_pair(model, png, words, row["class"], row["fields"], max_length))
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
    states: Tensor  # [B, S, H] float
    mask: Tensor  # [B, S] True on real memory tokens
    copy_ids: Tensor  # [B, S] -1 where nothing may be copied
    inputs: Tensor  # [B, T] decoder inputs (BOS, target tokens), PAD-padded
    sources: Tensor  # [B, T] where each input was copied from (-1: said, or padding)
    gold: Tensor  # [B, T, E] the entries that say the next token (none on padding)


def collate(pairs: list[Pair], pad_id: int, fixed: Sequence[int]) -> Batch:
    """A batch. A step's gold entry is the position its token is copied from, else the fixed
    id that says it, else every position spelling it (a value the page spells otherwise)."""
    n = max(p.states.shape[0] for p in pairs)
    t = max(len(p.target) for p in pairs) - 1
    said = {tok: j for j, tok in enumerate(fixed)}
    b, f = len(pairs), len(fixed)
    states = torch.zeros(b, n, pairs[0].states.shape[1])
    mask = torch.zeros(b, n, dtype=torch.bool)
    copy_ids = torch.full((b, n), -1, dtype=torch.long)
    inputs = torch.full((b, t), pad_id, dtype=torch.long)
    sources = torch.full((b, t), -1, dtype=torch.long)
    gold = torch.zeros(b, t, f + n, dtype=torch.bool)
    for i, p in enumerate(pairs):
        m = p.states.shape[0]
        states[i, :m], mask[i, :m], copy_ids[i, :m] = p.states.float(), True, p.copy_ids
        inputs[i, : len(p.target) - 1] = torch.tensor(p.target[:-1])
        sources[i, : len(p.target) - 1] = torch.tensor(p.sources[:-1])
        for step, (token, source) in enumerate(zip(p.target[1:], p.sources[1:], strict=True)):
            if source >= 0:
                gold[i, step, f + source] = True
            elif token in said:
                gold[i, step, said[token]] = True
            else:
                gold[i, step, f : f + m] = p.copy_ids == token
    return Batch(states, mask, copy_ids, inputs, sources, gold)
