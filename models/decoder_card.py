"""The field decoder's part of a checkpoint card (models.card.Card.decoder): optional, so a
checkpoint without one serves classification alone. Written by models.decoder_checkpoint."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from models.decoder import DecoderConfig
from models.decoding import DecoderPolicy, FullDepth, MueDecay, StepConfidence

DECODER_WEIGHTS = "decoder.safetensors"


class DecoderPolicyCard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str  # step_confidence | mue_decay | full_depth
    tau: float | None = None  # step_confidence's threshold; mue_decay's base threshold
    taus: dict[int, float] = {}  # step_confidence's thresholds for some exits (1-based layer)

    def build(self, max_length: int) -> DecoderPolicy:
        if self.name == "full_depth":
            return FullDepth()
        if self.tau is None:
            raise ValueError(f"decoder policy {self.name} needs tau")
        if self.name == "step_confidence":
            return StepConfidence(self.tau, dict(self.taus))
        if self.name == "mue_decay":
            return MueDecay(self.tau, max_length)
        raise ValueError(f"unknown decoder policy {self.name!r}")


class DecoderCard(BaseModel):
    model_config = ConfigDict(extra="allow")

    config: dict[str, Any]  # models.decoder.DecoderConfig.to_dict()
    fields: dict[str, list[str]]  # the fields generated per class, in order
    temperatures: list[float]  # one per decoder layer's exit
    policy: DecoderPolicyCard  # the default decoder policy
    weights_sha256: str
    training: dict[str, Any] = {}
    metrics: dict[str, Any] = {}  # models.evaluate_extract's summary

    def shape(self) -> DecoderConfig:
        return DecoderConfig.from_dict(self.config)
