"""What each stage of the cascade costs on this machine now: moving averages of OCR, decode and
every exit's stage time, seeded from the checkpoint card's measurements and updated by every
request. The budget (service.budget) prices operating points with it, and the deadline
(service.deadline) asks it whether the next stage still fits."""

from __future__ import annotations

import statistics
import threading

from models.card import Latency, OperatingPoint
from models.plan import EMBED, OCR_PAGE, OCR_STAGES, CascadePlan

EMA_ALPHA = 0.2  # weight of the newest sample: about the last 10 requests dominate
DECODE = "decode"


class LatencyModel:
    """Moving averages (seconds) per stage name (models.plan); thread-safe."""

    def __init__(self, card_latency: Latency | None, plan: CascadePlan | None) -> None:
        """plan: the model's exits (None: price only what the card measured)."""
        latency = card_latency or Latency(ocr=1.0)  # an unmeasured card: OCR at a second
        stages = dict(latency.stages)
        exits = () if plan is None else plan.exits
        layers = [e for e in exits if e.layer > 0 and e.name in stages]
        vision = [stages[e.name] for e in layers if e.stage == "vision"]
        floor = statistics.fmean(vision) if vision else 0.0
        for e in exits:
            if e.stage == "multimodal" and e.layer > 0:
                # A multimodal layer attends over text + image tokens, so it costs at least what
                # an image-only layer does; this guards against a card that under-measured it.
                stages[e.name] = max(stages.get(e.name, 0.0), floor)
            stages.setdefault(e.name, floor)
        stages.setdefault(EMBED, 0.0)
        self.card_stages = dict(stages)
        self.card_ocr_stages = latency.ocr_stages  # the whole page, and its top band
        self._ema: dict[str, float] = {**stages, **self.card_ocr_stages, DECODE: 0.0}
        self._lock = threading.Lock()

    def observe(self, name: str, seconds: float) -> None:
        with self._lock:
            old = self._ema.get(name)
            self._ema[name] = seconds if old is None else old + EMA_ALPHA * (seconds - old)

    def get(self, name: str) -> float:
        with self._lock:
            if name in OCR_STAGES and name not in self._ema:
                # Not measured yet (nor on the card): price a band like a whole page, which
                # overestimates it, so a deadline is never planned on optimism.
                return self._ema[OCR_PAGE]
            return self._ema.get(name, 0.0)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self._ema)

    def encoder_scale(self) -> float:
        """Live encoder speed relative to the card's (2.0: this machine is half as fast)."""
        names = [n for n in self.card_stages if n != EMBED]
        card = sum(self.card_stages[n] for n in names)
        live = sum(self.get(n) for n in names)
        return live / card if card > 0 else 1.0

    def ocr_scale(self) -> float:
        """Live OCR speed relative to the card's, over the OCR stages seen so far."""
        card = sum(self.card_ocr_stages.values())
        live = sum(self.get(n) for n in self.card_ocr_stages)
        return live / card if card > 0 else 1.0

    def price(self, point: OperatingPoint) -> float:
        """Predicted end-to-end seconds of an operating point at today's latencies."""
        encoder = point.encoder_s * self.encoder_scale()
        if point.ocr_s is not None:  # the point's own OCR mix (skips, top band only, whole page)
            ocr = point.ocr_s * self.ocr_scale()
        else:
            ocr = (1.0 - point.ocr_skip_rate) * self.get(OCR_PAGE)
        return self.get(DECODE) + encoder + ocr

    def bound(self, point: OperatingPoint) -> float:
        """Predicted seconds within which nine pages in ten answer under an operating point, at
        today's latencies: what a per-request budget must cover. A point's mean mixes fast vision
        answers with OCR ones, and a budget that only covers the mean cuts every OCR page short
        of the accuracy the point promises. Cards without the quantile: the mean."""
        return self.bounds([point])[0]

    def bounds(self, points: list[OperatingPoint]) -> list[float]:
        """bound() of each point, with today's scales read once for all of them."""
        encoder, ocr, decode = self.encoder_scale(), self.ocr_scale(), self.get(DECODE)
        return [
            decode + p.encoder_p90_s * encoder + p.ocr_p90_s * ocr
            if p.encoder_p90_s is not None and p.ocr_p90_s is not None
            else self.price(p)
            for p in points
        ]
