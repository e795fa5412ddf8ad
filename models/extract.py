"""A classified page's key fields, read by the field decoder (models.decoder) off the encoder pass
classification already ran: the multimodal stream that answered is continued to its last layer
(models.runtime.KeptText), not run again. Only a page that was answered before its whole page's
words were read (a vision exit, or the top band's) needs a multimodal pass on them, which
starts from the image embedding classification computed."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from PIL import Image
from torch import Tensor

from models.decoder import MultiExitDecoder, Step
from models.decoder_card import DecoderCard
from models.decoding import DecoderPolicy, generate
from models.extract_data import page_memory, tail_budget, tail_memory
from models.fields import SEPARATOR, decode_fields, field_keys
from models.inputs import TextInputs, encode_words, image_tensor, tokenizer
from models.multiexit import MultiExitLayoutLMv3, MultimodalState
from models.runtime import Prediction, Words


@dataclass
class Extraction:
    fields: dict[str, str]
    confidence: dict[str, float]  # per field: the product of its tokens' calibrated confidences
    steps: list[Step] = field(default_factory=list)
    decoder_seconds: float = 0.0
    memory_seconds: float = 0.0  # continuing (or running) the multimodal stream, and the tail
    encoder_layers: int = 0  # multimodal layers run for the decoder's memory
    stopped: bool = False  # the deadline cut generation short


@torch.inference_mode()
def memory(
    model: MultiExitLayoutLMv3, outcome: Prediction, image: Image.Image, words: Words
) -> tuple[Tensor, Tensor, Tensor, int]:
    """The decoder's memory for a page: the multimodal stream's last-layer states on the page's
    words (continued from the pass that answered when it read them) and the embeddings of the
    words past the text budget, laid out for the pointer (models.extract_data.page_memory).
    Returns memory [1, N, H], mask [1, N], copy ids [1, N] and the encoder layers run here."""
    c = model.config
    head = encode_words(words[0], words[1], image.size, c.max_text_tokens, c.page_fit)
    kept = outcome.kept_text
    if kept is not None and torch.equal(kept.text.input_ids, head.input_ids):
        state, start = kept.state, kept.state.layer
    else:
        state, start = _fresh(model, outcome, image, head), 0
    for _ in model.multimodal_steps(state):
        pass
    real = state.mask[0, 0, 0] == 0  # the additive mask is 0 on real tokens
    full = encode_words(words[0], words[1], image.size, tail_budget(model), c.page_fit)
    tail = tail_memory(model, full, len(head.input_ids))
    n = len(head.input_ids)
    states, copy = page_memory(state.hidden[0][real], n, tail, full.input_ids)
    mask = torch.ones(states.shape[0], dtype=torch.bool, device=states.device)
    return states[None].float(), mask[None], copy[None].to(states.device), c.num_layers - start


def _fresh(
    model: MultiExitLayoutLMv3, outcome: Prediction, image: Image.Image, text: TextInputs
) -> MultimodalState:
    c = model.config
    tokens = outcome.image_tokens
    if tokens is None:  # only a full-depth run skips the vision pass, and it keeps its text
        pixels = image_tensor(image, c.image_size, c.pixels, c.page_fit)[None]
        tokens = model.embed_image(pixels)
    ids, bbox = text.input_ids[None], text.bbox[None]
    state, _ = model.start_multimodal(tokens, ids, bbox, text.attention_mask[None])
    return state


def field_confidences(steps: Sequence[Step], fields: dict[str, str]) -> dict[str, float]:
    """Each generated field's confidence: the product over the steps that spelled it."""
    sep = tokenizer().convert_tokens_to_ids(SEPARATOR)
    out: dict[str, float] = {}
    segment: list[Step] = []
    for s in [*steps, None]:
        if s is not None and s.token != sep:
            segment.append(s)
            continue
        keys = decode_fields([x.token for x in segment])
        for key in keys:
            if key in fields and key not in out:
                out[key] = float(torch.tensor([x.confidence for x in segment]).prod())
        segment = []
    return out


def extract(
    model: MultiExitLayoutLMv3,
    decoder: MultiExitDecoder,
    card: DecoderCard,
    label: str,
    outcome: Prediction,
    image: Image.Image,
    words: Words,
    policy: DecoderPolicy,
    can_continue: Callable[[], bool] | None = None,
) -> Extraction:
    """The fields of `label` on the page (none for a class without fields)."""
    if not field_keys(label):
        return Extraction({}, {})
    t = time.perf_counter()
    states, mask, copy, layers = memory(model, outcome, image, words)
    memory_s = time.perf_counter() - t
    g = generate(decoder, states, mask, copy, policy, card.temperatures, can_continue=can_continue)
    wanted = set(field_keys(label))
    fields = {k: v for k, v in decode_fields(g.tokens).items() if k in wanted}
    return Extraction(
        fields,
        field_confidences(g.steps, fields),
        g.steps,
        g.seconds,
        memory_s,
        layers,
        g.stopped,
    )
