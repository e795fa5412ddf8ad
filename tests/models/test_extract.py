"""Extraction off classification's own encoder pass (models.extract): the answering multimodal
stream is continued, and gives the memory a fresh full pass gives."""

from __future__ import annotations

import torch
from PIL import Image

from models.decoder import DecoderConfig, MultiExitDecoder
from models.decoder_card import DecoderCard, DecoderPolicyCard
from models.decoding import FullDepth
from models.extract import extract, memory
from models.extract_data import encode_memory, page_memory, tail_memory
from models.fields import fixed_vocabulary
from models.inputs import encode_words, image_tensor
from models.multiexit import MultiExitLayoutLMv3
from models.policies import PerExitThresholds as PerExit
from models.runtime import Cascade
from tests.models.conftest import tiny_config

WORDS = (
    ["Invoice", "No.", "37134", "Date", "2001-08-23"] + [f"item{i}" for i in range(12)],
    [(10, 10 + 8 * i, 60, 16 + 8 * i) for i in range(17)],
)


def tiny() -> tuple[MultiExitLayoutLMv3, Cascade, Image.Image]:
    torch.manual_seed(0)
    model = MultiExitLayoutLMv3(tiny_config()).eval()
    return model, Cascade(model, band=None), Image.new("L", (77, 100), 255)


def fresh_memory(
    model: MultiExitLayoutLMv3, image: Image.Image
) -> tuple[torch.Tensor, torch.Tensor]:
    c = model.config
    head = encode_words(*WORDS, image.size, c.max_text_tokens, c.page_fit)
    pixels = image_tensor(image, c.image_size, c.pixels, c.page_fit)[None]
    states, mask = encode_memory(model, pixels, head.input_ids[None], head.bbox[None],
                                 head.attention_mask[None])  # fmt: skip
    full = encode_words(*WORDS, image.size, c.max_position_embeddings - 1, c.page_fit)
    tail = tail_memory(model, full, len(head.input_ids))
    return page_memory(states[0][mask[0]], len(head.input_ids), tail, full.input_ids)


def test_the_answering_pass_is_continued_not_run_again() -> None:
    model, cascade, image = tiny()
    at_mm1 = PerExit({"mm.1": 0.0})  # answers at the first multimodal layer
    outcome = cascade.classify(image, words=WORDS, policy=at_mm1, keep_text=True)
    assert outcome.exit == "mm.1" and outcome.kept_text is not None
    assert outcome.kept_text.state.layer == 1
    states, mask, copy, layers = memory(model, outcome, image, WORDS)
    assert layers == model.config.num_layers - 1  # only the layers classification did not run
    fresh, fresh_copy = fresh_memory(model, image)
    torch.testing.assert_close(states[0], fresh, atol=1e-5, rtol=1e-5)
    assert torch.equal(copy[0], fresh_copy)
    words = int((copy >= 0).sum())  # every token of the page, the tail's too, may be copied
    assert mask.all() and words > model.config.max_text_tokens


def test_a_vision_answer_gets_a_pass_on_the_whole_page() -> None:
    model, cascade, image = tiny()
    first = PerExit({"emb.vision_avg": 0.0})
    outcome = cascade.classify(image, words=WORDS, policy=first, keep_text=True)
    assert outcome.stage == "vision" and outcome.kept_text is None
    assert outcome.image_tokens is not None  # the embedding is reused, not recomputed
    states, _, copy, layers = memory(model, outcome, image, WORDS)
    assert layers == model.config.num_layers
    fresh, fresh_copy = fresh_memory(model, image)
    torch.testing.assert_close(states[0], fresh, atol=1e-5, rtol=1e-5)
    assert torch.equal(copy[0], fresh_copy)


def test_extract_returns_only_the_class_fields_with_confidences() -> None:
    model, cascade, image = tiny()
    outcome = cascade.classify(image, words=WORDS, policy=PerExit({"mm.1": 0.0}), keep_text=True)
    c = DecoderConfig(vocab_size=30522, fixed=list(fixed_vocabulary()), hidden_size=32,
                      num_layers=2, num_heads=2,
                      intermediate_size=32, adapter_size=4, max_length=12, dropout=0.0)  # fmt: skip
    decoder = MultiExitDecoder(c).eval()
    card = DecoderCard(config=c.to_dict(), fields={}, temperatures=[1.0, 1.0],
                       policy=DecoderPolicyCard(name="full_depth"), weights_sha256="")  # fmt: skip
    out = extract(model, decoder, card, "invoice", outcome, image, WORDS, FullDepth())
    assert set(out.fields) <= {"invoice_number", "date", "total", "vendor"}
    assert set(out.confidence) == set(out.fields)
    assert all(0.0 <= p <= 1.0 for p in out.confidence.values())
    assert out.steps and out.encoder_layers == model.config.num_layers - 1
    none = extract(model, decoder, card, "handwritten", outcome, image, WORDS, FullDepth())
    assert none.fields == {} and none.steps == []
