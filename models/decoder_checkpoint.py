"""The field decoder inside a classifier checkpoint: decoder.safetensors (int8/fp16, as the
classifier's weights are stored) and the card's `decoder` section. The decoder's token
embedding and its tied head are the classifier's frozen WordPiece table, so neither is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import Tensor

from models.card import Card, CheckpointError
from models.checkpoint import dequantize, quantize, read_card, sha256_file
from models.data.families import REQUIRED_FIELDS
from models.decoder import MultiExitDecoder
from models.decoder_card import DECODER_WEIGHTS, DecoderCard, DecoderPolicyCard

TIED = ("embed.weight", "head.weight")  # the classifier's word embeddings


def save_decoder(
    decoder: MultiExitDecoder,
    folder: Path,
    temperatures: list[float],
    policy: DecoderPolicyCard,
    **extra: Any,
) -> Card:
    """Add the decoder to the checkpoint in `folder` (its card is rewritten with the section)."""
    card = read_card(folder)
    state = {k: v for k, v in decoder.state_dict().items() if k not in TIED}
    save_file(quantize(state), str(folder / DECODER_WEIGHTS))
    section = DecoderCard(
        config=decoder.config.to_dict(),
        fields={k: list(v) for k, v in REQUIRED_FIELDS.items() if v},
        temperatures=temperatures,
        policy=policy,
        weights_sha256=sha256_file(folder / DECODER_WEIGHTS),
        **extra,
    )
    card = card.updated(decoder=section)
    card.write(folder)
    return card


def load_decoder(folder: Path, card: Card, words: Tensor) -> MultiExitDecoder | None:
    """The checkpoint's decoder, its hash verified, tied to `words` (the classifier's word
    embeddings); None when the checkpoint has none."""
    if card.decoder is None:
        return None
    path = folder / DECODER_WEIGHTS
    if not path.exists():
        raise CheckpointError(f"{path} is missing (the card describes a decoder)")
    if sha256_file(path) != card.decoder.weights_sha256:
        raise CheckpointError(f"{path}: sha256 does not match the card's; corrupt or replaced")
    decoder = MultiExitDecoder(card.decoder.shape())
    state = dequantize(load_file(str(path)))
    state.update(dict.fromkeys(TIED, words.float()))
    missing, unexpected = decoder.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"decoder weights do not fit: {missing} {unexpected}")
    return decoder.to(words.device).eval()
