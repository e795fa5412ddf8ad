"""A text-only probe: how far a corpus' words carry to real pages, in a minute instead of a
training run.

    python -m models.probe --train DIR --eval data/realval [--per-class N] [--json]

Every page's words (stored Tesseract output where it exists, as the service would read it, else
the page's ground truth) are embedded by all-MiniLM-L6-v2 (mean of its token states, as the
sentence-transformers model card does), a softmax regression is fitted on the --train pages and
scored on the --eval pages. A corpus whose probe scores no better on real pages than an untrained
matcher has taught its text nothing that transfers; the model trained on it will not do better
on words alone. Real pages need their OCR first: python -m models.data.ocr --data data/realval."""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm
from transformers import BertModel

from models.data.labels import CLASSES
from models.dataset import list_pages, page_words
from models.inputs import minilm_dir, tokenizer

log = logging.getLogger("docexit.probe")
MAX_TOKENS = 256


@torch.no_grad()
def embed(texts: list[str], batch: int = 32, progress: bool = True) -> Tensor:
    """[N, 384] unit-length sentence embeddings of the texts."""
    model = BertModel.from_pretrained(str(minilm_dir())).eval()
    tok = tokenizer()
    out = []
    for i in tqdm(range(0, len(texts), batch), desc="embed", disable=not progress):
        enc = tok(
            texts[i : i + batch],
            truncation=True,
            max_length=MAX_TOKENS,
            padding=True,
            return_tensors="pt",
        )
        states = model(**enc).last_hidden_state  # [B, T, 384]
        mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
        out.append(F.normalize((states * mask).sum(1) / mask.sum(1).clamp(min=1), dim=-1))
    return torch.cat(out)


def read_texts(root: Path, per_class: int | None) -> tuple[list[str], Tensor, int]:
    """Each page's words as one string, its label, and how many came from stored OCR."""
    texts, labels, from_ocr = [], [], 0
    for png, label in list_pages(root, per_class):
        words, _, ocr = page_words(png, use_ocr=True)
        texts.append(" ".join(words))
        labels.append(label)
        from_ocr += ocr
    return texts, torch.tensor(labels), from_ocr


def fit(x: Tensor, y: Tensor, steps: int = 300, weight_decay: float = 1e-4) -> torch.nn.Linear:
    """Softmax regression on fixed embeddings (full batch, L-BFGS)."""
    torch.manual_seed(0)
    head = torch.nn.Linear(x.shape[1], len(CLASSES))
    opt = torch.optim.LBFGS(head.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(head(x), y) + weight_decay * head.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return head


def probe(train: Path, eval_: Path, per_class: int | None, progress: bool = True) -> dict[str, Any]:
    train_texts, train_y, _ = read_texts(train, per_class)
    eval_texts, eval_y, eval_ocr = read_texts(eval_, None)
    if eval_ocr < len(eval_texts):
        log.warning(
            "%d of %d evaluation pages have no stored OCR: their ground truth was used",
            len(eval_texts) - eval_ocr,
            len(eval_texts),
        )
    head = fit(embed(train_texts, progress=progress), train_y)
    with torch.no_grad():
        predicted = head(embed(eval_texts, progress=progress)).argmax(-1)
    right = predicted == eval_y
    per_class_acc = {
        CLASSES[c]: round(right[eval_y == c].float().mean().item(), 3) for c in eval_y.unique()
    }
    confusions = Counter(
        f"{CLASSES[t]}->{CLASSES[p]}"
        for t, p in zip(eval_y.tolist(), predicted.tolist(), strict=True)
        if t != p
    )
    return {
        "train_pages": len(train_texts),
        "eval_pages": len(eval_texts),
        "eval_from_ocr": eval_ocr,
        "accuracy": round(right.float().mean().item(), 4),
        "macro_accuracy": round(sum(per_class_acc.values()) / len(per_class_acc), 4),
        "per_class": per_class_acc,
        "top_confusions": dict(confusions.most_common(10)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=Path, required=True, help="a folder of class folders")
    parser.add_argument("--eval", type=Path, required=True, help="a folder of class folders")
    parser.add_argument("--per-class", type=int, default=None, help="train pages per class")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = probe(args.train, args.eval, args.per_class)
    if args.json:
        log.info(json.dumps(result))
    else:
        log.info(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
