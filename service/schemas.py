"""Response and admin request bodies, as they appear in the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.guarantee import Guarantee
from service.settings import MAX_BUDGET_MS


class TopK(BaseModel):
    label: str
    confidence: float


class ExitInfo(BaseModel):
    stage: Literal["vision", "multimodal"]
    layer: int = Field(description="encoder layers run in that stream; 0: an embedding exit")
    num_layers: int
    name: str = Field(description="the exit's name in the checkpoint, e.g. vision.2, mm.6")


class Timings(BaseModel):
    decode: float
    ocr: float
    encode: float
    total: float
    queue: float = Field(description="waiting for a worker thread")


class DegradationInfo(BaseModel):
    rung: Literal["shallower_point", "no_page_ocr", "vision_only"] = Field(
        description="shallower_point: a cheaper operating point (named above); no_page_ocr: the "
        "top band's OCR only; vision_only: no OCR at all"
    )
    expected_wait_ms: float = Field(description="predicted wait for a worker on arrival")
    target_ms: float = Field(description="the latency the request was kept within")
    pressure_budget_ms: float = Field(description="what the wait left of the target")


class PolicyInfo(BaseModel):
    name: str = Field(description="global, per_exit, similarity, patience, gate or full_depth")
    thresholds: dict[str, float] | None = Field(
        default=None, description="per-exit confidence thresholds, for threshold policies"
    )
    knob: dict[str, Any] = Field(description="the policy's parameters as built")
    latency_budget_ms: int | None
    source: str = Field(description="request, admin, settings or card")
    expected_accuracy: float | None = Field(
        default=None, description="validation accuracy of the operating point chosen for the budget"
    )
    guarantee: Guarantee = Field(description="what the checkpoint's certificate says of it")
    degraded: bool = Field(
        default=False,
        description="true: the service was under load and answered shallower than this policy "
        "and budget would have on an idle service (see degradation)",
    )
    degradation: DegradationInfo | None = None


Reason = Literal["policy", "deadline", "load", "full_depth"]


class CascadeStep(BaseModel):
    """One exit of the cascade as this page met it, or why it did not."""

    name: str = Field(description="the exit, e.g. vision.2, mm.6, in the order they are met")
    stage: Literal["vision", "multimodal"]
    status: Literal["answered", "continued", "skipped"] = Field(
        description="answered: this exit gave the answer; continued: it ran and the policy went "
        "on; skipped: it never ran (see reason)"
    )
    confidence: float | None = Field(
        default=None, description="its calibrated top-class probability; null: skipped"
    )
    label: str | None = Field(default=None, description="its top class; null: skipped")
    threshold: float | None = Field(
        default=None, description="the policy's confidence threshold there; null: none applies"
    )
    reason: Reason | None = Field(
        default=None,
        description="why it answered or was skipped: policy (its confidence passed the policy; "
        "or, skipped, an earlier exit answered or the policy never stops there), deadline (the "
        "budget left could not pay for it; answered: the most confident exit met), load (the "
        "service answered shallower under load), full_depth (the request ran the last exit only)",
    )


class ModelRef(BaseModel):
    name: str
    version: str


class Classification(BaseModel):
    label: str | None = Field(
        description="the answer; null when the service abstains (see abstained_reason)"
    )
    confidence: float = Field(description="calibrated probability of the most likely class")
    top_k: list[TopK]
    in_distribution: bool = Field(
        description="false: the page scored below the checkpoint's abstention threshold, "
        "likely none of the classes (a photo, a blank page, sheet music, a map, ...)"
    )
    ood_score: float = Field(
        description="the checkpoint's out-of-distribution score at the answering exit; higher "
        "is more like the classes (its kind and threshold: GET /v1/model)"
    )
    abstained_reason: str | None = Field(
        default=None, description="why label is null, when the service abstained"
    )
    exit: ExitInfo
    ocr_skipped: bool
    ocr_calls: int = Field(
        description="OCR calls made: 0 (skipped, or the client sent words), 1 (the page's top "
        "band, or the whole page), 2 (top band, then the whole page)"
    )
    deadline_hit: bool
    timings_ms: Timings
    policy: PolicyInfo
    model: ModelRef
    request_id: str
    page: int = Field(description="0-based page (PDF) or frame (TIFF) classified")
    cascade: list[CascadeStep] = Field(
        default_factory=list, description="every exit in order: what it said, or why it was skipped"
    )


class CertifiedPointView(BaseModel):
    policy: dict[str, Any]
    risky_pages: int = Field(description="calibration pages counted against it")
    p_value: float = Field(description="at the ε in force")
    certified: bool


class CertificationView(BaseModel):
    epsilon: float = Field(description="the ε in force (admin, settings, else the card's)")
    card_epsilon: float
    delta: float
    risk: str = Field(
        description="harm: pages it gets wrong where the reference is right; disagreement: any "
        "other answer"
    )
    reference: str = Field(
        description="full_depth: every layer on the whole page's words; cascade (older cards): "
        "the cascade never exiting early, on the rest of the page read apart"
    )
    calibration_pages: int
    data: list[str]
    points: list[CertifiedPointView] = Field(description="in the order they were tested")


class ModelCard(BaseModel):
    name: str
    version: str
    labels: list[str]
    exits: list[str]
    temperatures: dict[str, float]
    thresholds: dict[str, float]
    policy: dict[str, Any] | None
    operating_points: list[dict[str, Any]]
    latency: dict[str, Any] = Field(description="the card's measured latencies (seconds)")
    live_latency_s: dict[str, float] = Field(description="this process's moving averages")
    device: str
    ocr_engine: str
    certification: CertificationView | None = Field(
        description="certified operating points (models.certify); null: no certificate"
    )
    abstention: dict[str, Any] | None = Field(
        default=None,
        description="the out-of-distribution score and threshold (models.ood) and what they "
        "measured; null: the checkpoint has none, no page is called out of distribution",
    )
    decoder: dict[str, Any] | None = Field(
        default=None,
        description="the field decoder behind POST /v1/extract: its config, fields per class, "
        "temperatures, default policy and measured metrics; null: the checkpoint has none",
    )
    document: dict[str, Any] | None = Field(
        default=None,
        description="how a document's pages pool (POST /v1/classify with pages): weights, "
        "temperature, stopping threshold, and what the checkpoint's pool measured",
    )


class Health(BaseModel):
    status: Literal["ok", "starting", "failed"]
    detail: str
    config_store: str | None = None


class BudgetBody(BaseModel):
    # Strict: "750" or 750.5 is a client bug to report, not a budget to guess at; and an unknown
    # field is a typo that would otherwise change nothing while answering 200.
    model_config = ConfigDict(extra="forbid")

    latency_budget_ms: int | None = Field(
        description="default budget for requests that send none; null: no deadline",
        gt=0,
        le=MAX_BUDGET_MS,
        strict=True,
    )


class EpsilonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epsilon: float | None = Field(
        description="tolerated accuracy loss of early exits against the cascade never exiting "
        "early, as a share (0.01: one point); null: the settings' or the card's",
        gt=0,
        lt=1,
        strict=True,
    )


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: str | dict[str, Any] | None = Field(
        description='"auto", "card", a policy family ("global", "per_exit", ...), or an '
        'explicit policy such as {"name": "global", "tau": 0.9}; null: the settings default',
        examples=["auto", {"name": "global", "tau": 0.9}],
    )


class DegradeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    degrade: bool | None = Field(
        description="under load, answer shallower before refusing (503); null: the settings' "
        "DOCEXIT_DEGRADE",
        strict=True,
    )


class ConfigView(BaseModel):
    version: int
    latency_budget_ms: int | None
    policy: str | dict[str, Any] | None
    epsilon: float | None
    degrade: bool | None = Field(default=None, description="null: the settings' default")
    updated_at: str | None
    updated_by: str | None
    store: str
    store_healthy: bool
