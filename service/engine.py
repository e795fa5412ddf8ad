"""The loaded model and everything a classification needs, built once per process: checkpoint,
cascade, latency model, OCR; and the blocking work of one request, run in a worker thread."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from models.checkpoint import library_differences, load_checkpoint
from models.data.ocr import OcrEngine
from models.runtime import Cascade, OcrFn, Prediction, Words
from service import cascade as anytime
from service.budget import Choice, Deadline, LatencyModel
from service.decode import Page, decode
from service.ocr import CachedOcr, make_engine, parse_client_ocr
from service.pdf_sandbox import PdfSandbox
from service.settings import Settings

log = logging.getLogger("docexit.service.engine")


def pick_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("DOCEXIT_DEVICE=cuda but torch sees no GPU")
    return device


@dataclass
class Result:
    page: Page
    outcome: Prediction
    seconds: dict[str, float]  # decode, ocr, encode, queue


class Engine:
    def __init__(
        self,
        cascade: Cascade,
        card: dict[str, Any],
        ocr: OcrFn | None,
        settings: Settings,
        device: str,
    ) -> None:
        self.cascade, self.card, self.ocr, self.settings, self.device = (
            cascade,
            card,
            ocr,
            settings,
            device,
        )
        self.labels: list[str] = list(card["labels"])
        self.exits: list[str] = cascade.model.config.exit_names()
        self.num_layers = cascade.model.config.num_layers
        self.latency = LatencyModel(card.get("latency", {}), self.exits)
        self.pdf = PdfSandbox(
            settings.workers, settings.pdf_timeout_s, settings.pdf_memory_mb * 2**20
        )

    @classmethod
    def load(cls, settings: Settings, ocr_engine: OcrEngine | None = None) -> Engine:
        device = pick_device(settings.device)
        model, card = load_checkpoint(Path(settings.checkpoint), device)
        engine = ocr_engine or make_engine(settings.ocr_engine)
        ocr = CachedOcr(engine, settings.redis_url, settings.ocr_cache_ttl_s)
        log.info(
            "loaded %s %s from %s on %s, OCR %s",
            card.get("name"),
            card.get("version"),
            settings.checkpoint,
            device,
            engine.name,
        )
        # A warning, not a refusal: another release may be deliberate (a newer patch, a CUDA
        # build), and the test suite fails on any difference for the locked environment.
        for difference in library_differences(card):
            log.warning("checkpoint %s: %s", settings.checkpoint, difference)
        return cls(Cascade(model, card, device), card, ocr, settings, device)

    def close(self) -> None:
        """Stops the PDF processes; the server is shutting down."""
        self.pdf.close()

    @property
    def name(self) -> str:
        return str(self.card.get("name", Path(self.settings.checkpoint).name))

    @property
    def version(self) -> str:
        return str(self.card.get("version", self.card["hashes"]["weights_sha256"][:12]))

    def warm_up(self, pages: int) -> None:
        """Run blank pages through both streams (full depth, with words) so the first real
        request does not pay for lazy allocations; OCR is not warmed, as engines load eagerly."""
        self.pdf.start()  # the PDF processes get ready meanwhile
        words: Words = (["warm", "up"], [(10, 10, 60, 30), (70, 10, 120, 30)])
        for _ in range(pages):
            image = Image.new("L", (770, 1000), 255)
            anytime.run(self.cascade, image, None, Deadline(None), self.latency, None, words)

    def classify(
        self,
        data: bytes,
        page: int,
        client_ocr: str | None,
        choice: Choice,
        deadline: Deadline,
        enqueued: float,
    ) -> Result:
        """Blocking: decode, then the anytime cascade. Runs in a worker thread."""
        queue = time.perf_counter() - enqueued
        t = time.perf_counter()
        s = self.settings
        decoded = decode(data, page, s.max_upload_bytes, s.max_pixels, s.max_pages, self.pdf)
        words = None
        if client_ocr is not None:
            words = parse_client_ocr(client_ocr, decoded.image.size, s.max_ocr_words)
        seconds = {"decode": time.perf_counter() - t, "queue": queue}
        self.latency.observe("decode", seconds["decode"])
        outcome = anytime.run(
            self.cascade, decoded.image, choice.policy, deadline, self.latency, self.ocr, words
        )
        seconds |= {"ocr": outcome.timings["ocr"], "encode": outcome.encoder_seconds}
        return Result(decoded, outcome, seconds)
