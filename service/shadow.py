"""Shadow full-depth monitoring: a share of answered requests is run again, off the request path,
through the same cascade never exiting early, and its answer compared with the live one.

The reference is what the certificate (models.certify) bounds: full depth, which the cascade
answers when it never exits early (an undecided page is read whole, every layer run, the last
exit answering). Run as that cascade rather than as policy None, the shadow also keeps every
exit's view on the way, which re-certification needs. It reads the same words the request did
(ReplayOcr: the live OCR calls are recorded by RecordingOcr), and OCRs only what the request did
not read (the whole page of one it answered on the top band, or all of one a vision exit
answered), so a disagreement is the early exit's doing and nothing else.

The lane is one thread, apart from the live pool, fed by a bounded queue: a request is only
enqueued (after its answer is built), never waited for. It gives way first under load: a
sampled request is dropped, and counted, when every live worker is busy or the queue is full,
and a running shadow stops at its next stage as soon as every live worker is busy. Each run
keeps the page's trace (every exit's view, models.traces.Trace) so that the certificate can be
recomputed on live traffic (service.routes.shadow)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import queue
import random
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PIL import Image

from models.bands import OcrFn, Words
from models.plan import CascadePlan
from models.policies import Policy, first_exit
from models.runtime import Prediction
from models.traces import Trace

if TYPE_CHECKING:  # annotations only: the engine imports this module
    from service.budget import Choice
    from service.engine import Engine, Result
    from service.metrics import Metrics
    from service.settings import Settings

log = logging.getLogger("docexit.service.shadow")
DROP_REASONS = ("busy", "queue_full", "error")
SHADOW_NICE = 10  # the lane's thread (and the OCR processes it starts) yields the CPU to live work


@dataclass(frozen=True)
class OcrCall:
    size: tuple[int, int]  # of the image (a band's crop, or the page) the call read
    words: Words  # as the OCR function returned them, in that image's coordinates


class RecordingOcr:
    """One request's OCR function: the engine's, keeping what each call returned, in order."""

    def __init__(self, ocr: OcrFn) -> None:
        self.ocr = ocr
        self.calls: list[OcrCall] = []

    @property
    def last_call_cached(self) -> bool:  # read by service.deadline: a cache hit teaches nothing
        return bool(getattr(self.ocr, "last_call_cached", False))

    def __call__(self, image: Image.Image) -> Words:
        words = self.ocr(image)
        self.calls.append(OcrCall(image.size, words))
        return words


class ReplayOcr:
    """The shadow's OCR function: the live request's calls, in order, while each asks for an
    image of the same size (the same band, as band_cut is deterministic); the real OCR for the
    calls the request never made."""

    def __init__(self, calls: Sequence[OcrCall], ocr: OcrFn | None) -> None:
        self.calls, self.ocr = list(calls), ocr
        self.made = 0  # calls answered so far
        self.fresh = 0  # of them, read by the real OCR

    def __call__(self, image: Image.Image) -> Words:
        i, self.made = self.made, self.made + 1
        if i < len(self.calls) and self.calls[i].size == image.size:
            return self.calls[i].words
        if self.ocr is None:
            raise RuntimeError("no OCR engine for a part of the page the request did not read")
        self.fresh += 1
        return self.ocr(image)


def shadow_trace(plan: CascadePlan, outcome: Prediction) -> Trace:
    """The trace of a run that never exited early: its views in plan order, the top band's pass
    (if any) between the vision exits and the last pass, whose final exit is full depth's."""
    # Kept for re-certification, which reads probabilities only: the pooled features and logits
    # each view carries for the abstention score would make a record ~20x larger.
    views = [dataclasses.replace(v, logits=None, features=None) for v in outcome.steps]
    vision, text = [e.name for e in plan.vision], [e.name for e in plan.multimodal]
    band = len(views) - len(vision) - len(text)
    expected = vision + text[:band] + text  # a band pass meets the first multimodal exits
    if band < 0 or [v.name for v in views] != expected:
        raise ValueError(f"not a run to the end: {[v.name for v in views]}")
    return Trace(plan, views, len(vision), band, views[-1])


@dataclass(frozen=True)
class Job:
    image: Image.Image
    calls: list[OcrCall]  # the live request's OCR calls
    words: Words | None  # the client's own words, if it sent some
    policy: Policy  # the live request's
    live_exit: str
    live_label: int  # the class index it answered
    deadline_hit: bool


@dataclass(frozen=True)
class ShadowRecord:
    trace: Trace
    live_exit: str
    agree: bool
    # The trace, under the live policy, picks the live exit and class: the pair measures the
    # early exit alone. None for a deadline-hit request (its answer was no policy's choice).
    reproduced: bool | None
    fresh_ocr_calls: int


@dataclass
class Tally:
    pairs: dict[str, list[int]] = field(default_factory=dict)  # exit -> [agree, disagree]
    dropped: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DROP_REASONS, 0))
    unreproduced: int = 0


class ShadowLane:
    """rate: the share of answered requests re-run; busy: whether every live worker is busy
    (read from this lane's thread: a stale answer costs one shadow run at most)."""

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        exits: Sequence[str],
        busy: Callable[[], bool],
        rng: random.Random | None = None,
    ) -> None:
        self.rate, self.keep = settings.shadow_rate, settings.shadow_keep
        self.metrics, self.busy = metrics, busy
        self._rng = rng or random.Random()
        self._jobs: queue.Queue[Job] = queue.Queue(maxsize=settings.shadow_queue_size)
        self._records: deque[ShadowRecord] = deque(maxlen=settings.shadow_keep)
        self._lock = threading.Lock()  # records and tally: written here, read by the admin API
        self.tally = Tally()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.engine: Engine | None = None
        for name in exits:  # every series at 0 from the start: rate() sees the first pair
            for agree in ("true", "false"):
                metrics.shadow.labels(exit=name, agree=agree)
        for reason in DROP_REASONS:
            metrics.shadow_dropped.labels(reason=reason)

    @property
    def queued(self) -> int:
        return self._jobs.qsize()

    def start(self, engine: Engine) -> None:
        self.engine = engine
        if self.rate > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._work, name="docexit-shadow", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """A run under way finishes its stage; what is queued is dropped with the process."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def offer(self, result: Result, choice: Choice) -> None:
        """Called once per answered request, after its answer is built: samples it, and queues
        it without waiting. Full-depth requests have nothing to compare and are not sampled."""
        if self.rate <= 0 or self.engine is None or choice.policy is None:
            return
        if self._rng.random() >= self.rate:
            return
        out = result.outcome
        job = Job(
            result.page.image,
            result.ocr_read,
            result.words,
            choice.policy,
            out.exit,
            out.answer.prediction,
            out.deadline_hit,
        )
        if self.busy():
            self._drop("busy")
            return
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            self._drop("queue_full")

    def _drop(self, reason: str) -> None:
        self.metrics.shadow_dropped.labels(reason=reason).inc()
        with self._lock:
            self.tally.dropped[reason] += 1

    def _work(self) -> None:
        # Per thread on Linux: the OCR processes this thread starts inherit it.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), SHADOW_NICE)
        while not self._stop.is_set():
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            if self.busy():
                self._drop("busy")
                continue
            try:
                record = self.run(job)
            except Exception:  # one page's failure (an OCR error) must not end the lane
                log.exception("shadow run failed")
                self._drop("error")
                continue
            if record is None:
                self._drop("busy")
            else:
                self.add(record)

    def run(self, job: Job) -> ShadowRecord | None:
        """Blocking: the cascade never exiting early on the request's words; None when live
        work took the CPU back before the end."""
        from service.engine import WARM_UP  # a policy that names no threshold and never exits

        engine = self.engine
        assert engine is not None
        cascade = engine.cascade.alone()  # never in a live batch, so it delays none
        ocr = None if job.words is not None else ReplayOcr(job.calls, engine.ocr)
        outcome = cascade.classify(
            job.image,
            ocr=ocr,
            words=job.words,
            policy=WARM_UP,
            can_run=lambda _stage: not self.busy(),
        )
        if outcome.deadline_hit:
            return None
        trace = shadow_trace(cascade.plan, outcome)
        reproduced = None
        if not job.deadline_hit:
            picked = trace.views[first_exit(job.policy, trace.views)]
            reproduced = picked.name == job.live_exit and picked.prediction == job.live_label
        agree = job.live_label == trace.views[-1].prediction
        return ShadowRecord(trace, job.live_exit, agree, reproduced, ocr.fresh if ocr else 0)

    def add(self, record: ShadowRecord) -> None:
        agree = "true" if record.agree else "false"
        self.metrics.shadow.labels(exit=record.live_exit, agree=agree).inc()
        with self._lock:
            self._records.append(record)
            counts = self.tally.pairs.setdefault(record.live_exit, [0, 0])
            counts[0 if record.agree else 1] += 1
            self.tally.unreproduced += record.reproduced is False

    def records(self) -> list[ShadowRecord]:
        with self._lock:
            return list(self._records)

    def summary(self) -> dict[str, Any]:
        """Counts since this process started (the records kept are the latest `keep`)."""
        with self._lock:
            pairs = {name: list(c) for name, c in self.tally.pairs.items()}
            dropped, kept = dict(self.tally.dropped), len(self._records)
            unreproduced = self.tally.unreproduced
        total = sum(a + d for a, d in pairs.values())
        disagree = sum(d for _, d in pairs.values())
        return {
            "rate": self.rate,
            "pairs": total,
            "disagreements": disagree,
            "loss_estimate": disagree / total if total else None,
            "per_exit": {
                name: {"pairs": a + d, "agree": a, "disagreement": d / (a + d)}
                for name, (a, d) in sorted(pairs.items())
            },
            "dropped": dropped,
            "unreproduced": unreproduced,
            "queued": self.queued,
            "records_kept": kept,
            "records_limit": self.keep,
        }
