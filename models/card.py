"""The checkpoint card, typed: what a checkpoint says about itself, read by one loader and written
field by field by the step that owns each field.

    writer                        fields
    models.checkpoint (save)      format, labels, config, exits, storage, libraries, hashes
    models.export                 name, version, training, temperatures, calibration
    models.operating_points       latency, operating_points, policy, thresholds, ocr_band, metrics

Older cards load through `Card.parse`, which upgrades what changed since (a card without
`ocr_band` predates the top-band OCR default). Unknown fields are kept, so a card written by a
newer release round-trips. Latency keys are spelled here only: the card stores OCR seconds as
`ocr`, `ocr_band` and `ocr_rest`, the cascade names those stages `ocr`, `ocr.band`, `ocr.rest`
(models.plan), and `Latency.ocr_stages` is the one translation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_jsonable_python

from models.multiexit import MultiExitConfig
from models.plan import OCR_BAND, OCR_PAGE, OCR_REST
from models.policies import Policy, make_policy

FORMAT = "docexit-checkpoint/1"
CARD = "card.json"
DEFAULT_BAND = 0.35  # share of the page height OCR'd first (see models.bands)
_OPEN = ConfigDict(extra="allow")  # keep what a newer writer added


class CheckpointError(RuntimeError):
    """A checkpoint folder that cannot be loaded as it is; the message says why and what to do."""


def as_written(part: BaseModel) -> dict[str, Any]:
    """A part of a card as the card's JSON spells it (no defaults filled in), for clients."""
    return part.model_dump(mode="json", exclude_unset=True)


class Latency(BaseModel):
    """Measured mean seconds per stage on the machine that made the card (models.latency)."""

    model_config = _OPEN
    ocr: float  # the whole page in one call
    ocr_band: float | None = None  # the top band alone (cards made with a band)
    ocr_rest: float | None = None  # the rest of the page, after the band
    band: float | None = None
    stages: dict[str, float] = {}  # "embed" and every exit's own layer
    pages: int = 0
    device: str = "cpu"
    threads: int = 0
    machine: str = ""

    @property
    def ocr_stages(self) -> dict[str, float]:
        """Measured OCR seconds by the cascade's stage names (models.plan)."""
        found = {OCR_PAGE: self.ocr, OCR_BAND: self.ocr_band, OCR_REST: self.ocr_rest}
        return {stage: s for stage, s in found.items() if s is not None}

    @property
    def banded(self) -> bool:
        return self.ocr_band is not None and self.ocr_rest is not None


class PolicyCard(BaseModel):
    """A policy as the card and the API spell it: its family name and its knob."""

    model_config = _OPEN
    name: str

    @property
    def knob(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def build(self) -> Policy | None:
        """The policy; None for full depth."""
        return None if self.name == "full_depth" else make_policy(self.name, self.knob)

    def spec(self) -> dict[str, Any]:
        return {"name": self.name, **self.knob}


class OperatingPoint(BaseModel):
    """One policy at one knob value, measured on validation pages (models.operating_points)."""

    model_config = _OPEN
    policy: PolicyCard
    accuracy: float = 0.0
    mean_exit_layer: float = 0.0
    mean_exit_index: float | None = None  # cards before it was recorded: None
    ocr_skip_rate: float = 0.0
    top_band_only_rate: float = 0.0
    encoder_s: float = 0.0
    ocr_s: float | None = None  # the point's own OCR mix (older cards: None)
    end_to_end_s: float = 0.0
    encoder_p90_s: float | None = None  # nine pages in ten (older cards: None)
    ocr_p90_s: float | None = None

    @property
    def depth(self) -> float:
        """How far into the cascade its pages get: the mean exit index (position in the exit
        list, every vision exit before OCR and the text exits); its mean exit layer would rank
        emb.text_avg (layer 0, after OCR) under vision.1, and older cards only have that."""
        return self.mean_exit_index if self.mean_exit_index is not None else self.mean_exit_layer


class Scores(BaseModel):
    accuracy: float
    ece: float
    nll: float
    brier: float


class ExitCalibration(BaseModel):
    before: Scores  # temperature 1
    after: Scores  # with the exit's fitted temperature


class Calibration(BaseModel):
    """Where the temperatures were fitted, and what they did (models.export)."""

    model_config = _OPEN
    data: list[str]
    pages: int
    per_exit: dict[str, ExitCalibration]
    mean_ece_before: float
    mean_ece_after: float


class Metrics(BaseModel):
    """Per-exit accuracy on the operating points' validation pages (models.operating_points)."""

    model_config = _OPEN
    val_accuracy: dict[str, float] = {}
    val_top_band_accuracy: dict[str, float] = {}


class Hashes(BaseModel):
    model_config = _OPEN
    weights_sha256: str
    base: dict[str, str] = {}  # the package the frozen word embeddings come from


class Card(BaseModel):
    model_config = _OPEN
    format: str
    labels: list[str]
    config: dict[str, Any]  # models.multiexit.MultiExitConfig.to_dict()
    exits: list[str]
    storage: str = ""
    libraries: dict[str, str] = {}
    name: str | None = None
    version: str | None = None
    training: dict[str, Any] = {}
    hashes: Hashes
    temperatures: dict[str, float] = {}
    calibration: Calibration | None = None
    latency: Latency | None = None
    operating_points: list[OperatingPoint] = []
    policy: PolicyCard | None = None
    thresholds: dict[str, float] = {}
    ocr_band: float | None = DEFAULT_BAND  # None: OCR whole pages in one call
    metrics: Metrics | None = None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> Card:
        """A card from its JSON object, older cards upgraded."""
        if data.get("format") != FORMAT:
            raise CheckpointError(f"card format {data.get('format')!r}, expected {FORMAT!r}")
        return cls.model_validate(data)

    @classmethod
    def read(cls, folder: Path) -> Card:
        path = folder / CARD
        if not path.exists():
            raise CheckpointError(f"{folder} is not a docexit checkpoint: {CARD} is missing")
        try:
            return cls.parse(json.loads(path.read_text()))
        except CheckpointError as exc:
            raise CheckpointError(f"{path}: {exc}") from exc

    def updated(self, **fields: Any) -> Card:
        """This card with `fields` replaced, validated as any card is (typed parts or JSON)."""
        return Card.parse(
            {**self.model_dump(mode="json", exclude_unset=True), **to_jsonable_python(fields)}
        )

    def write(self, folder: Path) -> None:
        (folder / CARD).write_text(self.dump_json() + "\n")

    def dump_json(self) -> str:
        return json.dumps(as_written(self), indent=2)

    def model_shape(self) -> MultiExitConfig:
        """The model's typed config (older configs upgraded: MultiExitConfig.from_dict)."""
        return MultiExitConfig.from_dict(self.config)

    def policy_points(self, family: str | None = None) -> list[OperatingPoint]:
        """Operating points with a real policy (not full depth), optionally of one family."""
        points = [p for p in self.operating_points if p.policy.name != "full_depth"]
        return [p for p in points if family is None or p.policy.name == family]
