"""Service settings: one pydantic-settings class read from DOCEXIT_* environment variables.

Values that would make the service unsafe or unable to run are refused at start-up, with a
message naming the variable, rather than discovered on the first request."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.policies import POLICIES
from service.signing import MIN_KEY, Signer


def redact_url(url: str) -> str:
    """A URL with its password (if any) replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def usable_cores(cgroup: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """Cores this process may really use: the CPUs it may run on, capped by a cgroup v2 CPU
    quota (a container limited to 2 CPUs on a 64-core node sees 64 in os.cpu_count(), and 64
    torch threads there are throttled, not fast)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    try:
        quota, period = cgroup.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, -(-int(quota) // int(period))))  # ceiling
    except (OSError, ValueError):
        pass  # no cgroup v2 quota: all of the CPUs above
    return cores


# The largest per-request latency budget, wherever one is set (request, admin API, settings):
# ten minutes is already far past any page's full-depth time.
MAX_BUDGET_MS = 600_000
MIN_SIGNING_KEY = MIN_KEY
MIN_ADMIN_TOKEN = 16  # characters; shorter tokens are guessable by an online attacker
POLICY_NAMES = ("auto", "card", *POLICIES)  # the families come from models.policies


class Settings(BaseSettings):
    """Every knob an operator sets; the per-request knobs (budget, policy) only override the
    defaults named here and the admin-set runtime config. The one reader of the environment in
    service/."""

    model_config = SettingsConfigDict(env_prefix="DOCEXIT_", extra="ignore")

    checkpoint: Path = Field(
        default=Path("models/checkpoints/default"),
        description="checkpoint folder (card.json + weights)",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        default="auto", description="auto uses the GPU when torch sees one"
    )
    ocr_engine: Literal["tesseract", "rapidocr", "paddleocr"] = "tesseract"
    paddle_det_dir: str | None = Field(
        default=None,
        description="PP-OCR text detection model folder for the paddleocr engine "
        "(`python -m tools.paddle_models --out DIR` builds DIR/det)",
    )
    paddle_rec_dir: str | None = Field(
        default=None,
        description="PP-OCR text recognition model folder for the paddleocr engine (DIR/rec)",
    )
    ocr_cache_ttl_s: int = Field(
        default=7 * 24 * 3600, ge=0, description="OCR cache lifetime in Redis, 0 disables"
    )
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0, le=512 * 1024 * 1024)
    max_pixels: int = Field(
        default=40_000_000, gt=0, le=400_000_000, description="width x height of a decoded page"
    )
    max_pages: int = Field(
        default=1000,
        gt=0,
        le=100_000,
        description="PDF pages or TIFF frames an upload may have: a longer document is no page "
        "to classify (413), and opening it costs memory and time for nothing",
    )
    max_document_pages: int = Field(
        default=50,
        gt=0,
        le=100_000,
        description="pages one document request (pages=...) may ask for: each is a page's "
        "work on one worker thread, so a longer range is refused (413) rather than holding "
        "a worker for minutes; send it in ranges",
    )
    pdf_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="seconds a PDF may take to open and render (in its own process) before "
        "it is refused (422) and the process replaced",
    )
    pdf_memory_mb: int = Field(
        default=1024,
        ge=256,
        le=65_536,
        description="address space of a PDF process: past it the PDF is refused (413)",
    )
    max_ocr_words: int = Field(
        default=5000, gt=0, description="words a client may send as its own OCR"
    )
    workers: int = Field(
        default_factory=usable_cores,
        gt=0,
        le=256,
        description="model/OCR threads per process (defaults to the usable cores)",
    )
    queue_size: int = Field(
        default=16, ge=0, description="requests waiting for a worker thread before 503"
    )
    precision: Literal["float32", "bfloat16", "float16"] = Field(
        default="float32",
        description="encoder arithmetic: bfloat16 or float16 autocast (a GPU's fast path)",
    )
    max_batch: int = Field(
        default=1,
        ge=1,
        le=256,
        description="pages that may share an encoder pass, each leaving at its own exit "
        "(models.batched); 1: every page runs alone",
    )
    max_wait_ms: float = Field(
        default=2.0,
        ge=0,
        le=1000,
        description="how long a batch waits for more pages after its first (with max_batch > 1)",
    )
    retry_after_s: int = Field(default=1, ge=1)
    redis_url: str | None = Field(
        default=None,
        repr=False,  # may carry a password: logs show redis_url_redacted
        description="redis://USER:PASSWORD@host:port/db (rediss:// for TLS); unset: "
        "in-process config and no OCR cache",
    )
    config_signing_key: SecretStr | None = Field(
        default=None,
        description="HMAC key shared by the replicas, distinct from the admin token: signs the "
        "runtime config, its audit and the OCR cache in Redis; required with DOCEXIT_REDIS_URL",
    )
    config_signing_key_previous: SecretStr | None = Field(
        default=None,
        description="during a key rotation: the other key, whose signatures are still "
        "accepted (nothing is signed with it); unset once every replica has the new key",
    )
    redis_resync_s: float = Field(default=0.5, gt=0, le=60)
    admin_token: SecretStr | None = Field(default=None, description="bearer token for /admin/v1")
    admin_max_failures: int = Field(
        default=5,
        gt=0,
        le=1000,
        description="failed admin authentications from one client address, within the window, "
        "that lock it out of the admin API (429) for a window",
    )
    admin_failure_window_s: float = Field(
        default=60.0, gt=0, le=86_400, description="admin failure window and lockout (seconds)"
    )
    latency_budget_ms: int | None = Field(
        default=None, gt=0, le=MAX_BUDGET_MS, description="default per-request budget; unset: none"
    )
    degrade: bool = Field(
        default=True,
        description="under load, answer shallower (a cheaper operating point, then the top band's "
        "OCR only, then the vision stream only) before refusing with 503 (service.pressure); "
        "admins can switch it at /admin/v1/degrade",
    )
    degrade_target_ms: int | None = Field(
        default=None,
        gt=0,
        le=MAX_BUDGET_MS,
        description="latency that degrading keeps requests without a budget within; unset: 1.5 "
        "times the live bound of the point each would run on an idle service",
    )
    policy: str = Field(
        default="auto",
        description="default policy: auto (from the budget, else the card's), card, or a "
        "policy name from the card's operating points",
    )
    epsilon: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="tolerated accuracy loss of early exits against the cascade never exiting "
        "early (a share, 0.01: one point); the auto policy picks among the operating points "
        "certified at it; unset: the checkpoint certificate's",
    )
    abstain: bool = Field(
        default=False,
        description="answer a page the checkpoint's abstention calls out of distribution with "
        "a null label and the reason, rather than its most likely class (every response carries "
        "in_distribution and ood_score either way)",
    )
    warmup_requests: int = Field(
        default=2, ge=0, description="pages run through the model at start-up"
    )
    shadow_rate: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="share of answered requests re-run, off the request path, by the cascade "
        "never exiting early on the same words, to measure what early exits cost (0 disables)",
    )
    shadow_queue_size: int = Field(
        default=8,
        ge=1,
        le=1000,
        description="sampled requests waiting for the shadow lane; more are dropped (counted)",
    )
    shadow_keep: int = Field(
        default=1000,
        ge=0,
        le=100_000,
        description="latest shadow records kept for POST /admin/v1/recertify (about 14 KiB "
        "each); at ε 0.01 and δ 0.1 a point needs at least 230 to be certified",
    )
    shutdown_drain_s: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="on SIGTERM, seconds /readyz answers 503 while still serving, before "
        "the server stops accepting and finishes what is in flight",
    )
    # The server's own variables, under the names uvicorn and prometheus_client use, without the
    # prefix. Aliases only: Kubernetes gives pods of a Service named docexit DOCEXIT_PORT=tcp://...,
    # which a prefixed `port` field would read.
    host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("HOST"))
    port: int = Field(default=8000, validation_alias=AliasChoices("PORT"))
    uvicorn_workers: int = Field(
        default=1,
        validation_alias=AliasChoices("UVICORN_WORKERS"),
        description="server processes (python -m service)",
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    prometheus_multiproc_dir: str | None = Field(
        default=None,
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR"),
        description="with several server processes: the folder their metrics are merged from "
        "(prometheus_client itself reads the variable to decide where values are written)",
    )

    @field_validator("admin_token")
    @classmethod
    def _strong_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None  # unset: the admin API refuses every request
        if len(value.get_secret_value()) < MIN_ADMIN_TOKEN:
            raise ValueError(
                f"DOCEXIT_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN} characters "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if len(set(value.get_secret_value())) < 4:
            raise ValueError("DOCEXIT_ADMIN_TOKEN is too repetitive to be a secret")
        return value

    @field_validator("policy")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        if value not in POLICY_NAMES:
            raise ValueError(f"DOCEXIT_POLICY must be one of {POLICY_NAMES}, not {value!r}")
        return value

    @field_validator("config_signing_key", "config_signing_key_previous")
    @classmethod
    def _unset_key_if_empty(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None or not value.get_secret_value() else value  # compose's ""

    @field_validator("prometheus_multiproc_dir")
    @classmethod
    def _unset_if_empty(cls, value: str | None) -> str | None:
        return value or None  # an empty PROMETHEUS_MULTIPROC_DIR: single-process metrics

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("DOCEXIT_REDIS_URL must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _redis_is_signed(self) -> Settings:
        """Anything that reaches Redis could rewrite an unsigned config: with Redis, a signing
        key is required, long, and not the admin token."""
        key = self.config_signing_key.get_secret_value() if self.config_signing_key else ""
        if self.redis_url and not key:
            raise ValueError(
                "DOCEXIT_REDIS_URL is set but DOCEXIT_CONFIG_SIGNING_KEY is not: replicas sign "
                "what they share through Redis with it (the same key on every replica)"
            )
        previous = self.config_signing_key_previous
        for name, value in (("", key), ("_PREVIOUS", previous and previous.get_secret_value())):
            if value and len(value) < MIN_SIGNING_KEY:
                raise ValueError(
                    f"DOCEXIT_CONFIG_SIGNING_KEY{name} must be at least {MIN_SIGNING_KEY} "
                    "characters"
                )
        if key and self.admin_token and key == self.admin_token.get_secret_value():
            raise ValueError("DOCEXIT_CONFIG_SIGNING_KEY must differ from DOCEXIT_ADMIN_TOKEN")
        return self

    @property
    def degrade_target_s(self) -> float | None:
        return None if self.degrade_target_ms is None else self.degrade_target_ms / 1000.0

    @property
    def redis_url_redacted(self) -> str | None:
        """The Redis URL for logs: its password, if any, replaced by ***."""
        return None if self.redis_url is None else redact_url(self.redis_url)

    def signer(self) -> Signer | None:
        key, previous = self.config_signing_key, self.config_signing_key_previous
        if key is None:
            return None
        also = () if previous is None else (previous.get_secret_value(),)
        return Signer(key.get_secret_value(), also)

    @model_validator(mode="after")
    def _checkpoint_exists(self) -> Settings:
        if not (self.checkpoint / "card.json").is_file():
            raise ValueError(
                f"DOCEXIT_CHECKPOINT={self.checkpoint} holds no card.json: "
                "point it at a docexit checkpoint folder"
            )
        return self
