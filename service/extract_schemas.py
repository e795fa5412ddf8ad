"""The /v1/extract response, as it appears in the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.schemas import Classification


class ExtractedField(BaseModel):
    value: str = Field(description="as the uncased WordPiece vocabulary spells it")
    confidence: float = Field(description="product of its tokens' calibrated confidences")


class DecoderInfo(BaseModel):
    policy: str = Field(description="step_confidence (DEED), mue_decay (MuE) or full_depth")
    steps: int = Field(description="tokens generated, the end token included")
    num_layers: int
    mean_exit_layer: float = Field(description="mean decoder layer the steps left at")
    exit_layers: dict[str, int] = Field(description="steps per decoder exit layer (1-based)")
    decoder_ms: float
    memory_ms: float = Field(description="continuing the encoder's pass for the decoder")
    encoder_layers: int = Field(
        description="multimodal layers run for the decoder on top of classification's"
    )
    stopped: bool = Field(description="the deadline cut generation short")


class ExtractionResponse(BaseModel):
    classification: Classification
    fields: dict[str, ExtractedField] = Field(
        description="the key fields of the class found (none for a class without fields)"
    )
    decoder: DecoderInfo
