"""The loaded model and everything a classification needs, built once per process: checkpoint,
cascade, latency model, OCR; and the blocking work of one request, run in a worker thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from models.batched import Batcher
from models.card import Card
from models.checkpoint import library_differences, load_checkpoint
from models.decoder import MultiExitDecoder
from models.decoder_checkpoint import load_decoder
from models.ocr import OcrEngine
from models.ood import Abstainer, Verdict, judge
from models.policies import Policy, StepView
from models.pretrained import WORD_EMBEDDINGS
from models.runtime import Cascade, OcrFn, Prediction, Words
from service import deadline as anytime
from service.budget import Choice
from service.client_ocr import parse_client_ocr
from service.deadline import Cap, Deadline
from service.decode import Page, decode
from service.latency_model import LatencyModel
from service.ocr_cache import CachedOcr
from service.ocr_engines import make_engine
from service.pdf_sandbox import PdfSandbox
from service.pressure import Prices
from service.settings import Settings
from service.shadow import OcrCall, RecordingOcr

log = logging.getLogger("docexit.service.engine")


def pick_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("DOCEXIT_DEVICE=cuda but torch sees no GPU")
    return device


@dataclass(frozen=True)
class _NoExit:
    """The warm-up's policy: it names no confidence threshold, so no vision exit is ruled out
    (models.policies.may_exit), and stops nowhere, so the multimodal stream runs to the end."""

    name: str = "warm_up"

    def should_exit(self, step: StepView, history: Sequence[StepView]) -> bool:
        return False

    def knob(self) -> dict[str, Any]:
        return {}

    def threshold(self, exit: str) -> float | None:
        return None


WARM_UP: Policy = _NoExit()


class SlottedOcr:
    """OCR through a fixed number of slots, one per core: with batching, more pages are in
    flight than there are cores, and Tesseract processes beyond them would only queue for CPU."""

    def __init__(self, ocr: OcrFn, slots: threading.BoundedSemaphore) -> None:
        self.ocr, self.slots = ocr, slots

    @property
    def last_call_cached(self) -> bool:  # read by service.deadline through RecordingOcr
        return bool(getattr(self.ocr, "last_call_cached", False))

    def __call__(self, image: Image.Image) -> Words:
        with self.slots:
            return self.ocr(image)


@dataclass
class Result:
    page: Page
    outcome: Prediction
    seconds: dict[str, float]  # decode, ocr, encode, queue
    # What the shadow lane (service.shadow) needs to read the page as this request did.
    ocr_read: list[OcrCall] = field(default_factory=list)  # its OCR calls, in order
    words: Words | None = None  # the client's own words


class Engine:
    def __init__(
        self,
        cascade: Cascade,
        card: Card,
        ocr: OcrFn | None,
        settings: Settings,
        device: str,
        decoder: MultiExitDecoder | None = None,
    ) -> None:
        self.cascade, self.card, self.ocr, self.settings, self.device = (
            cascade,
            card,
            ocr,
            settings,
            device,
        )
        self.decoder = decoder  # the field decoder (models.decoder), when the checkpoint has one
        self.labels: list[str] = list(card.labels)
        self.exits: list[str] = cascade.model.config.exit_names()
        self.num_layers = cascade.model.config.num_layers
        self.latency = LatencyModel(card.latency, cascade.plan)
        self.prices = Prices(card, self.latency, cascade.plan, cascade.band is not None)
        # None: the card sets no abstention
        self.abstainer = Abstainer.from_card(card, Path(settings.checkpoint))
        self.pdf = PdfSandbox(
            settings.workers, settings.pdf_timeout_s, settings.pdf_memory_mb * 2**20
        )
        # With batching, pages share encoder passes on the batcher's thread while their own
        # threads decode and OCR them (service.pool sizes the threads for it).
        self.ocr_slots = threading.BoundedSemaphore(settings.workers)
        self.batcher: Batcher | None = None
        if settings.max_batch > 1:
            self.batcher = Batcher(settings.max_batch, settings.max_wait_ms / 1000)
            cascade.passes = self.batcher

    @classmethod
    def load(cls, settings: Settings, ocr_engine: OcrEngine | None = None) -> Engine:
        device = pick_device(settings.device)
        model, card = load_checkpoint(Path(settings.checkpoint), device)
        engine = ocr_engine or make_engine(
            settings.ocr_engine, settings.paddle_det_dir, settings.paddle_rec_dir
        )
        ocr = CachedOcr(engine, settings.redis_url, settings.ocr_cache_ttl_s, settings.signer())
        log.info(
            "loaded %s %s from %s on %s, OCR %s",
            card.name,
            card.version,
            settings.checkpoint,
            device,
            engine.name,
        )
        # A warning, not a refusal: another release may be deliberate (a newer patch, a CUDA
        # build), and the test suite fails on any difference for the locked environment.
        for difference in library_differences(card.libraries):
            log.warning("checkpoint %s: %s", settings.checkpoint, difference)
        dtype = None if settings.precision == "float32" else getattr(torch, settings.precision)
        cascade = Cascade.from_card(model, card, device, dtype)
        words = model.state_dict()[WORD_EMBEDDINGS]
        decoder = load_decoder(Path(settings.checkpoint), card, words)
        return cls(cascade, card, ocr, settings, device, decoder)

    def close(self) -> None:
        """Stops the PDF processes and the batcher; the server is shutting down."""
        self.pdf.close()
        if self.batcher is not None:
            self.batcher.close()

    @property
    def name(self) -> str:
        return self.card.name or Path(self.settings.checkpoint).name

    @property
    def version(self) -> str:
        return self.card.version or self.card.hashes.weights_sha256[:12]

    def judge(self, outcome: Prediction) -> Verdict:
        """Is the answered page one of the classes at all (models.ood)?"""
        return judge(self.abstainer, outcome.answer, outcome.steps)

    def warm_up(self, pages: int) -> None:
        """Run blank pages through both streams, every vision exit and then (with words) every
        multimodal layer, so the first real request does not pay for lazy allocations; OCR is
        not warmed, as engines load eagerly. Straight through the cascade, with no deadline and
        no stage observer: cold timings must not teach the live latency model (self.latency)
        that every stage is slow."""
        self.pdf.start()  # the PDF processes get ready meanwhile
        words: Words = (["warm", "up"], [(10, 10, 60, 30), (70, 10, 120, 30)])
        for _ in range(pages):
            image = Image.new("L", (770, 1000), 255)
            self.cascade.classify(image, words=words, policy=WARM_UP)

    def classify(
        self,
        data: bytes,
        page: int,
        client_ocr: str | None,
        choice: Choice,
        deadline: Deadline,
        enqueued: float,
        cap: Cap | None = None,
        keep_text: bool = False,
    ) -> Result:
        """Blocking: decode, then the anytime cascade (`cap`: the last stage it may reach, under
        load; keep_text: leave the answering pass's stream for the field decoder). Runs in a
        worker thread."""
        queue = time.perf_counter() - enqueued
        t = time.perf_counter()
        s = self.settings
        decoded = decode(data, page, s.max_upload_bytes, s.max_pixels, s.max_pages, self.pdf)
        words = None
        if client_ocr is not None:
            words = parse_client_ocr(client_ocr, decoded.image.size, s.max_ocr_words)
        seconds = {"decode": time.perf_counter() - t, "queue": queue}
        self.latency.observe("decode", seconds["decode"])
        ocr = None if self.ocr is None else RecordingOcr(SlottedOcr(self.ocr, self.ocr_slots))
        outcome = anytime.run(
            self.cascade,
            decoded.image,
            choice.policy,
            deadline,
            self.latency,
            ocr,
            words,
            cap,
            keep_text,
        )
        seconds |= {"ocr": outcome.timings["ocr"], "encode": outcome.encoder_seconds}
        return Result(decoded, outcome, seconds, ocr.calls if ocr else [], words)
