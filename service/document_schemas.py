"""The document answer of POST /v1/classify with `pages` (a PDF's pages or a TIFF's frames read
in order until the document is sure), as it appears in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from service.schemas import Classification, ModelRef, PolicyInfo, TopK


class PoolInfo(BaseModel):
    """How page answers combine: a log-linear pool, the first page weighted apart."""

    first_weight: float = Field(description="weight of the first page's log-probabilities")
    rest_weight: float = Field(description="weight of every later page's log-probabilities")
    temperature: float = Field(description="the pooled scores are divided by it, then softmaxed")
    growth: float = Field(description="the temperature grows by this share per page after one")
    threshold: float = Field(
        description="reading stops once the document's confidence reaches it; above 1: never"
    )


class DocumentTimings(BaseModel):
    total: float = Field(description="ms, the whole request")
    pages: float = Field(description="ms, the pages' own work (decode, OCR, encode) summed")


class DocumentClassification(BaseModel):
    label: str | None = Field(
        description="the document's class; null when every page read abstained"
    )
    confidence: float = Field(description="calibrated probability of the document's class")
    top_k: list[TopK]
    pages_read: list[int] = Field(description="0-based pages classified, in reading order")
    pages_requested: list[int] = Field(
        description="first and last 0-based page asked for (inclusive)", min_length=2, max_length=2
    )
    page_count: int = Field(description="pages (PDF) or frames (TIFF) the document has")
    stopped: Literal["confident", "all_read", "deadline"] = Field(
        description="confident: the document's confidence reached the pool's threshold; "
        "all_read: every requested page was read; deadline: the budget ran out"
    )
    pool: PoolInfo
    pages: list[Classification] = Field(description="the answer for each page read, in order")
    policy: PolicyInfo = Field(description="the page policy in force (per page: pages[i].policy)")
    model: ModelRef
    request_id: str
    timings_ms: DocumentTimings
