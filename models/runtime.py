"""The anytime cascade for one page, run for real: image-only layers first, OCR only if no vision
exit accepts (the page's top band first, the whole page only if still undecided: models.bands),
then multimodal layers one at a time, stopping at the first exit the policy accepts.
Used by evaluation and by the service; policies come from models.policies. A caller with a
deadline passes `can_run`, asked before every stage (a vision or multimodal exit's name, or
"ocr.band", "ocr": models.plan): when it says no, the most confident exit so far
answers. Which exits it meets, in what order, comes from the model's plan (models.plan), which
the offline traces follow too; every step the model yields is checked against it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from models.bands import OcrFn, Words, band_cut, ocr_band
from models.card import DEFAULT_BAND, Card
from models.inputs import TextInputs, encode_words, image_tensor
from models.multiexit import ExitStep, MultiExitLayoutLMv3
from models.plan import EMBED, OCR_BAND, OCR_PAGE, Exit, Stage
from models.policies import Policy, StepView, vision_exits_to_run

CanRun = Callable[[str], bool]  # stage name -> may it start?
OnStage = Callable[[str, float], None]  # stage name, seconds it took


@dataclass
class Prediction:
    label: int
    probs: list[float]  # calibrated
    exit: str  # e.g. "vision.2", "mm.6"
    stage: Stage
    layer: int  # encoder layers run in the answering stream (0 for an embedding exit)
    ocr_skipped: bool
    ocr_bands: int = 0  # OCR calls made: 0 (skipped or words given), 1 (top band or page), 2
    deadline_hit: bool = False  # can_run stopped the cascade; the most confident exit answered
    timings: dict[str, float] = field(default_factory=dict)  # s: vision, ocr, multimodal, total
    steps: list[StepView] = field(default_factory=list)  # every exit met, in order

    @property
    def answer(self) -> StepView:
        """The answering exit as the policy saw it."""
        return next(s for s in reversed(self.steps) if s.name == self.exit)

    @property
    def encoder_seconds(self) -> float:
        return self.timings.get("vision", 0.0) + self.timings.get("multimodal", 0.0)


class _Stop(Exception):
    """can_run refused the next stage."""


class PlanMismatchError(RuntimeError):
    """The model yielded an exit other than the one its plan says comes next: timings, deadline
    checks and band layers would land on the wrong exits."""


@dataclass
class _Request:
    """One classify call's state."""

    image: Image.Image
    tokens: torch.Tensor  # the image embedding, shared by both streams
    policy: Policy | None
    can_run: CanRun | None
    on_stage: OnStage | None
    start: float = field(default_factory=time.perf_counter)
    steps: list[StepView] = field(default_factory=list)
    timings: dict[str, float] = field(
        default_factory=lambda: {"vision": 0.0, "ocr": 0.0, "multimodal": 0.0}
    )
    ocr_calls: int = 0

    def check(self, stage: str) -> None:
        # Full depth ignores deadlines; and with nothing said yet there is nothing to answer.
        if self.policy is not None and self.can_run and self.steps and not self.can_run(stage):
            raise _Stop(stage)

    def timed(self, stage: str, bucket: str, fn: Callable[..., Any], *args: Any) -> Any:
        self.check(stage)
        t = time.perf_counter()
        out = fn(*args)
        dt = time.perf_counter() - t
        self.timings[bucket] += dt
        if self.on_stage is not None:
            self.on_stage(stage, dt)
        return out


class Cascade:
    """A model with one temperature per exit, run one page at a time (batch 1, as early exits
    are decided per page). band: the share of the page height OCR'd first (None: whole pages
    in one OCR call)."""

    def __init__(
        self,
        model: MultiExitLayoutLMv3,
        temperatures: dict[str, float] | None = None,
        band: float | None = DEFAULT_BAND,
        device: str = "cpu",
    ) -> None:
        self.model = model.eval()
        self.device = torch.device(device)
        self.temperatures = dict(temperatures or {})
        self.plan = model.config.plan
        self.band = band

    @classmethod
    def from_card(cls, model: MultiExitLayoutLMv3, card: Card, device: str = "cpu") -> Cascade:
        """The cascade a checkpoint describes: its temperatures and its OCR band."""
        return cls(model, card.temperatures, card.ocr_band, device)

    def view(self, step: ExitStep) -> StepView:
        t = self.temperatures.get(step.name, 1.0)
        probs = torch.softmax(step.logits[0].float() / t, -1)

        def scalar(x: torch.Tensor | None) -> float | None:
            return None if x is None else float(x[0])

        gate = None if step.gate is None else float(torch.sigmoid(step.gate[0]))
        return StepView(
            step.name,
            tuple(probs.tolist()),
            self.plan.stage(step.name),
            gate,
            scalar(step.image_similarity),
            scalar(step.text_similarity),
            tuple(step.logits[0].float().tolist()),
            None if step.features is None else tuple(step.features[0].float().tolist()),
        )

    @torch.inference_mode()
    def classify(
        self,
        image: Image.Image,
        ocr: OcrFn | None = None,
        words: Words | None = None,
        policy: Policy | None = None,
        *,
        can_run: CanRun | None = None,
        on_stage: OnStage | None = None,
    ) -> Prediction:
        """policy None means full depth: no vision stream, whole-page OCR, every multimodal layer.
        With a policy: the vision exits; then, unless words are given, the top band's OCR and the
        multimodal exits on its words; the whole page is read, and every multimodal exit met on
        its words, only if none of them accepts. So a run that never exits early answers as full
        depth does, exit for exit on the last pass."""
        if words is None and ocr is None:
            raise ValueError("no OCR engine and no words: the multimodal stage needs text")
        c = self.model.config
        t = time.perf_counter()
        pixels = (
            image_tensor(image, c.image_size, c.pixels, c.page_fit).unsqueeze(0).to(self.device)
        )
        req = _Request(image, self.model.embed_image(pixels), policy, can_run, on_stage, start=t)
        req.timings["vision"] = time.perf_counter() - t
        if on_stage is not None:
            on_stage(EMBED, req.timings["vision"])
        try:
            return self._run(req, ocr, words)
        except _Stop:
            best = max(req.steps, key=lambda s: s.confidence)  # calibrated: comparable
            return self._answer(req, best, deadline_hit=True)

    def _run(self, req: _Request, ocr: OcrFn | None, words: Words | None) -> Prediction:
        if req.policy is not None:
            names = vision_exits_to_run(req.policy, [e.name for e in self.plan.vision])
            exits = self.plan.vision[: len(names)]  # no layer that leads nowhere
            answer = self._stream(req, exits, self.model.vision_steps(req.tokens), "vision")
            if answer is not None:
                return answer
        if words is not None:
            return self._last_pass(req, self._encode(req, words))
        assert ocr is not None
        if req.policy is None or self.band is None:
            page = self._ocr(req, OCR_PAGE, ocr, 0, req.image.height)
            return self._last_pass(req, self._encode(req, page))
        cut = band_cut(req.image, self.band)
        head = self._encode(req, self._ocr(req, OCR_BAND, ocr, 0, cut))
        # A band that fills the text budget gives the model as many words as it ever reads, so
        # every multimodal exit may answer on it; otherwise only the plan's band exits may.
        filled = len(head.input_ids) >= self.model.config.max_text_tokens
        answer = self._multimodal(req, head, self.plan.multimodal if filled else self.plan.band)
        if answer is not None:
            return answer
        # Undecided: read the whole page, as full depth does, so that a page no exit accepts
        # gets full depth's answer (what certified points are measured against, models.certify).
        page = self._ocr(req, OCR_PAGE, ocr, 0, req.image.height)
        return self._last_pass(req, self._encode(req, page))

    def _encode(self, req: _Request, words: Words) -> TextInputs:
        c = self.model.config
        return encode_words(words[0], words[1], req.image.size, c.max_text_tokens, c.page_fit)

    def _ocr(self, req: _Request, stage: str, ocr: OcrFn, top: int, bottom: int) -> Words:
        if stage == OCR_PAGE:  # the whole page, in one call
            words: Words = req.timed(stage, "ocr", ocr, req.image)
        else:
            words = req.timed(stage, "ocr", ocr_band, ocr, req.image, top, bottom)
        req.ocr_calls += 1
        return words

    def _last_pass(self, req: _Request, text: TextInputs) -> Prediction:
        answer = self._multimodal(req, text, self.plan.multimodal, last=True)
        assert answer is not None  # the last pass always answers, at the final exit at the latest
        return answer

    def _multimodal(
        self, req: _Request, text: TextInputs, exits: Sequence[Exit], *, last: bool = False
    ) -> Prediction | None:
        """One multimodal pass over `text`, meeting `exits` (the plan's first ones). The last
        pass answers at the final exit at the latest; a top-band pass returns None when none of
        its exits accepts."""
        ids, bbox, mask = (
            x.unsqueeze(0).to(self.device) for x in (text.input_ids, text.bbox, text.attention_mask)
        )

        def steps() -> Iterator[ExitStep]:
            # Embedding exits come out of start_multimodal together; layers run one per exit.
            state, first = self.model.start_multimodal(req.tokens, ids, bbox, mask)
            yield from first
            yield from self.model.multimodal_steps(state, bbox)

        return self._stream(req, exits, steps(), "multimodal", final=last)

    def _stream(
        self,
        req: _Request,
        exits: Sequence[Exit],
        steps: Iterator[ExitStep],
        bucket: str,
        final: bool = False,
    ) -> Prediction | None:
        """Meet `exits` one at a time from the lazy `steps`; answer at the first the policy
        accepts (or, with final, at the final exit)."""
        for expected in exits:
            step: ExitStep | None = req.timed(expected.name, bucket, next, steps, None)
            if step is None or step.name != expected.name:
                found = "no exit" if step is None else step.name
                raise PlanMismatchError(
                    f"the model gave {found} where its plan has {expected.name}"
                )
            view = self.view(step)
            req.steps.append(view)
            accept = req.policy is not None and req.policy.should_exit(view, req.steps[:-1])
            if accept or (final and expected == self.plan.final):
                return self._answer(req, view)
        return None

    def _answer(self, req: _Request, view: StepView, deadline_hit: bool = False) -> Prediction:
        req.timings["total"] = time.perf_counter() - req.start
        return Prediction(
            view.prediction,
            list(view.probs),
            view.name,
            view.stage,
            self.plan.layer(view.name),
            ocr_skipped=req.ocr_calls == 0 and view.stage == "vision",
            ocr_bands=req.ocr_calls,
            deadline_hit=deadline_hit,
            timings=req.timings,
            steps=req.steps,
        )
