"""The checkpoint card, typed: what a checkpoint says about itself, read by one loader and written
field by field by the step that owns each field.

    writer                        fields
    models.checkpoint (save)      format, labels, config, exits, storage, libraries, hashes
    models.export                 name, version, training, temperatures, calibration
    models.operating_points       latency, operating_points, policy, thresholds, ocr_band, metrics
    models.certify                certification
    models.ood_eval               abstention
    models.decoder_checkpoint     decoder (optional: the field decoder, models.decoder_card)
    models.document_fit           document (optional: how page answers pool, models.document)

Older cards load through `Card.parse`, which upgrades what changed since (a card without
`ocr_band` predates the top-band OCR default). Unknown fields are kept, so a card written by a
newer release round-trips. Latency keys are spelled here only: the card stores OCR seconds as
`ocr` and `ocr_band`, the cascade names those stages `ocr` and `ocr.band` (models.plan), and
`Latency.ocr_stages` is the one translation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import to_jsonable_python

from models.decoder_card import DecoderCard
from models.document import DocumentPool
from models.ltt import binomial_p_value, fixed_sequence
from models.multiexit import MultiExitConfig
from models.plan import OCR_BAND, OCR_PAGE
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
    band: float | None = None
    stages: dict[str, float] = {}  # "embed" and every exit's own layer
    pages: int = 0
    device: str = "cpu"
    threads: int = 0
    machine: str = ""

    @property
    def ocr_stages(self) -> dict[str, float]:
        """Measured OCR seconds by the cascade's stage names (models.plan)."""
        found = {OCR_PAGE: self.ocr, OCR_BAND: self.ocr_band}
        return {stage: s for stage, s in found.items() if s is not None}

    @property
    def banded(self) -> bool:
        return self.ocr_band is not None


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


Risk = Literal["harm", "disagreement"]
Reference = Literal["cascade", "full_depth"]


class Candidate(BaseModel):
    """One operating point as the certificate tested it."""

    policy: PolicyCard
    risky: int  # calibration pages counted against it (see Certification.risk)


class Certification(BaseModel):
    """Which operating points lose at most ε against the reference, with probability at least
    1 - δ over the draw of the calibration pages (models.certify). The counts are stored, so the
    points certified at any other ε (an operator's choice) follow by the same test."""

    model_config = _OPEN
    epsilon: float = Field(gt=0.0, lt=1.0)  # the default tolerated loss
    delta: float = Field(gt=0.0, lt=1.0)
    risk: Risk  # harm: wrong where the reference is right; disagreement: any other answer
    # full_depth; cascade: cards certified when the cascade still read the rest of a page apart,
    # against what it answered never exiting early
    reference: Reference
    pages: int  # calibration pages, held back from the threshold search
    data: list[str] = []
    tested: list[Candidate]  # in the testing order, fixed before the pages were seen

    def certified_count(self, epsilon: float | None = None) -> int:
        """How many tested points, from the first, are certified at ε (default: the card's)."""
        eps = self.epsilon if epsilon is None else epsilon
        return fixed_sequence([t.risky for t in self.tested], self.pages, eps, self.delta)

    def p_values(self, epsilon: float | None = None) -> list[float]:
        eps = self.epsilon if epsilon is None else epsilon
        return [binomial_p_value(t.risky, self.pages, eps) for t in self.tested]


class Abstention(BaseModel):
    """When the service calls a page out of distribution (models.ood): the score at the
    answering exit and the threshold below which it abstains, set on in-class validation pages
    (`data`), and what it measured against the out-of-scope folder (models.ood_eval)."""

    model_config = _OPEN
    score: str  # a models.ood.SCORES name
    threshold: float
    data: list[str] = []  # the pages the threshold was set on
    pages: int = 0
    abstain_target: float = 0.0  # share of those pages it may abstain on
    auroc_realval: float | None = None  # in-class real pages against the out-of-scope folder
    abstained_realval: float | None = None  # in-class real pages wrongly abstained on
    outofscope: str = ""
    outofscope_pages: int = 0
    # Feature scores: models.ood_features' statistics beside the weights, and the pages fit on.
    features_sha256: str | None = None
    features_data: list[str] = []
    features_per_class: list[int] = []  # at most this many pages a class, per features_data folder
    features_negatives: str | None = None  # out-of-scope training pages (the contrast score)


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
    certification: Certification | None = None
    abstention: Abstention | None = None
    decoder: DecoderCard | None = None
    document: DocumentPool | None = None  # models.document_fit: how pages pool into a document

    @model_validator(mode="after")
    def _certified_points_exist(self) -> Card:
        if self.certification is not None:
            specs = [p.policy.spec() for p in self.operating_points]
            for tested in self.certification.tested:
                if tested.policy.spec() not in specs:
                    raise ValueError(
                        f"certification tested {tested.policy.spec()}, which is not one of the "
                        "card's operating points (re-run models.certify after the points)"
                    )
        return self

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

    def default_policy(self) -> PolicyCard | None:
        """What a request naming no policy and no budget gets (the service re-prices "cheapest"
        with its live latencies): with a certificate, the cheapest point certified at the card's
        ε, or full depth (None) when none is; without, the card's policy."""
        if self.certification is None:
            return self.policy
        points = self.certified_points()
        return min(points, key=lambda p: p.end_to_end_s).policy if points else None

    def certified_points(self, epsilon: float | None = None) -> list[OperatingPoint]:
        """The operating points certified at ε (default: the card's), in testing order; none
        without a certification."""
        if self.certification is None:
            return []
        tested = self.certification.tested[: self.certification.certified_count(epsilon)]
        by_spec = {json.dumps(p.policy.spec(), sort_keys=True): p for p in self.operating_points}
        return [by_spec[json.dumps(t.policy.spec(), sort_keys=True)] for t in tested]
