"""Field extraction for /v1/extract, run in the request's worker thread after its classification:
the page's whole words (the client's, the cascade's own whole-page OCR call, or one OCR call
now), then the checkpoint's field decoder (models.extract) under the same deadline."""

from __future__ import annotations

from models.decoder_card import DecoderPolicyCard
from models.decoding import DecoderPolicy
from models.extract import Extraction, extract
from models.runtime import Words
from service import errors
from service.deadline import Deadline
from service.engine import Engine, Result, SlottedOcr

DECODER_POLICIES = ("step_confidence", "mue_decay", "full_depth")


def decoder_policy(engine: Engine, name: str | None) -> tuple[str, DecoderPolicy]:
    """The decoder policy a request names (None: the checkpoint's default)."""
    card = engine.card.decoder
    assert card is not None and engine.decoder is not None
    chosen = card.policy
    if name is not None and name != chosen.name:
        if name not in DECODER_POLICIES:
            raise errors.invalid(f"decoder_policy must be one of {list(DECODER_POLICIES)}")
        # Another family at the default's threshold (full depth has none).
        chosen = DecoderPolicyCard(name=name, tau=None if name == "full_depth" else card.policy.tau)
    return chosen.name, chosen.build(engine.decoder.config.max_length)


def page_words(engine: Engine, result: Result) -> Words:
    """The page's whole words: the client's, else the cascade's whole-page OCR call, else one
    OCR call now (through the engine's cache and its OCR slots)."""
    if result.words is not None:
        return result.words
    size = result.page.image.size
    for call in result.ocr_read:
        if call.size == size:
            return call.words
    if engine.ocr is None:
        raise errors.invalid("no OCR engine and no words: extraction needs the page's text")
    return SlottedOcr(engine.ocr, engine.ocr_slots)(result.page.image)


def extract_fields(
    engine: Engine, result: Result, deadline: Deadline, policy: DecoderPolicy
) -> Extraction:
    """Blocking: the fields of the class the page was given."""
    assert engine.decoder is not None and engine.card.decoder is not None
    label = engine.labels[result.outcome.answer.prediction]
    return extract(
        engine.cascade.model,
        engine.decoder,
        engine.card.decoder,
        label,
        result.outcome,
        result.page.image,
        page_words(engine, result),
        policy,
        can_continue=lambda: deadline.remaining() > 0,
    )
