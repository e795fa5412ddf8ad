"""The anytime cascade for one page, run for real: image-only layers first, OCR only if no vision
exit accepts (the page's top band first, the rest only if still undecided: models.bands), then
multimodal layers one at a time, stopping at the first exit the policy accepts.
Used by evaluation and by the service; policies come from models.policies. A caller with a
deadline passes `can_run`, asked before every stage (a vision or multimodal exit's name, or
"ocr", "ocr.band", "ocr.rest"): when it says no, the most confident exit so far answers."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from models.bands import OcrFn, Words, band_cut, join, ocr_band
from models.inputs import TextInputs, encode_words, image_tensor
from models.multiexit import ExitStep, MultiExitLayoutLMv3
from models.policies import Policy, StepView, vision_exits_to_run

DEFAULT_BAND = 0.35  # share of the page height OCR'd first (see models.bands)
CanRun = Callable[[str], bool]  # stage name -> may it start?
OnStage = Callable[[str, float], None]  # stage name, seconds it took


@dataclass
class Prediction:
    label: int
    probs: list[float]  # calibrated
    exit: str  # e.g. "vision.2", "mm.6"
    stage: str  # "vision" | "multimodal"
    ocr_skipped: bool
    ocr_bands: int = 0  # OCR calls made: 0 (skipped or words given), 1 (top band or page), 2
    deadline_hit: bool = False  # can_run stopped the cascade; the most confident exit answered
    timings: dict[str, float] = field(default_factory=dict)  # s: vision, ocr, multimodal, total
    steps: list[StepView] = field(default_factory=list)  # every exit met, in order

    @property
    def layer(self) -> int:
        """Encoder layers run in the answering stream (0 for an embedding exit)."""
        where = self.exit.split(".")[1]
        return int(where) if where.isdigit() else 0

    @property
    def answer(self) -> StepView:
        """The answering exit as the policy saw it."""
        return next(s for s in reversed(self.steps) if s.name == self.exit)

    @property
    def encoder_seconds(self) -> float:
        return self.timings.get("vision", 0.0) + self.timings.get("multimodal", 0.0)


class _Stop(Exception):
    """can_run refused the next stage."""


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
    """Wraps a loaded checkpoint: temperatures from its card, one page at a time (batch 1, as
    early exits are decided per page)."""

    def __init__(
        self, model: MultiExitLayoutLMv3, card: dict[str, Any], device: str = "cpu"
    ) -> None:
        self.model = model.eval()
        self.card = card
        self.device = torch.device(device)
        self.temperatures: dict[str, float] = card.get("temperatures", {})
        self.final = model.config.final_exit
        self.band: float | None = card.get("ocr_band", DEFAULT_BAND)

    @property
    def band_layers(self) -> int:
        """Multimodal layers run on a top band's words before reading the rest of the page."""
        return max(1, self.model.config.num_layers // 2)

    def view(self, step: ExitStep) -> StepView:
        t = self.temperatures.get(step.name, 1.0)
        probs = torch.softmax(step.logits[0].float() / t, -1)

        def scalar(x: torch.Tensor | None) -> float | None:
            return None if x is None else float(x[0])

        gate = None if step.gate is None else float(torch.sigmoid(step.gate[0]))
        return StepView(
            step.name,
            tuple(probs.tolist()),
            gate,
            scalar(step.image_similarity),
            scalar(step.text_similarity),
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
        multimodal exits on its words; the rest of the page is read only if none of them accepts
        and the top band did not already fill the model's text budget."""
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
            on_stage("embed", req.timings["vision"])
        try:
            return self._run(req, ocr, words)
        except _Stop:
            best = max(req.steps, key=lambda s: s.confidence)  # calibrated: comparable
            return self._answer(req, best, deadline_hit=True)

    def _run(self, req: _Request, ocr: OcrFn | None, words: Words | None) -> Prediction:
        if req.policy is not None:
            names = [n for n in self.model.config.exit_names() if StepView(n, ()).stage == "vision"]
            names = vision_exits_to_run(req.policy, names)  # no layer that leads nowhere
            answer = self._stream(req, names, self.model.vision_steps(req.tokens), "vision")
            if answer is not None:
                return answer
        if words is not None:
            return self._last_pass(req, self._encode(req, words))
        assert ocr is not None
        if req.policy is None or self.band is None:
            page = self._ocr(req, "ocr", ocr, 0, req.image.height)
            return self._last_pass(req, self._encode(req, page))
        cut = band_cut(req.image, self.band)
        head = self._ocr(req, "ocr.band", ocr, 0, cut)
        text = self._encode(req, head)
        filled = len(text.input_ids) >= self.model.config.max_text_tokens
        answer = self._multimodal(req, text, last=filled)
        if answer is not None:
            return answer
        rest = self._ocr(req, "ocr.rest", ocr, cut, req.image.height)
        return self._last_pass(req, self._encode(req, join(head, rest)))

    def _encode(self, req: _Request, words: Words) -> TextInputs:
        c = self.model.config
        return encode_words(words[0], words[1], req.image.size, c.max_text_tokens, c.page_fit)

    def _ocr(self, req: _Request, stage: str, ocr: OcrFn, top: int, bottom: int) -> Words:
        if stage == "ocr":  # the whole page, in one call
            words: Words = req.timed(stage, "ocr", ocr, req.image)
        else:
            words = req.timed(stage, "ocr", ocr_band, ocr, req.image, top, bottom)
        req.ocr_calls += 1
        return words

    def _last_pass(self, req: _Request, text: TextInputs) -> Prediction:
        answer = self._multimodal(req, text, last=True)
        assert answer is not None  # the last pass always answers, at the final exit at the latest
        return answer

    def _multimodal(self, req: _Request, text: TextInputs, *, last: bool) -> Prediction | None:
        """One multimodal pass over `text`. The last pass answers at the final exit at the
        latest; a top-band pass stops after band_layers and returns None."""
        c = self.model.config
        ids, bbox, mask = (
            x.unsqueeze(0).to(self.device) for x in (text.input_ids, text.bbox, text.attention_mask)
        )
        names = [n for n in c.exit_names() if StepView(n, ()).stage == "multimodal"]
        if not last:
            names = [n for n in names if not n.startswith("mm.") or int(n[3:]) <= self.band_layers]

        def steps() -> Iterator[ExitStep]:
            # Embedding exits come out of start_multimodal together; layers run one per exit.
            state, first = self.model.start_multimodal(req.tokens, ids, bbox, mask)
            yield from first
            yield from self.model.multimodal_steps(state, bbox)

        return self._stream(req, names, steps(), "multimodal", final=last)

    def _stream(
        self,
        req: _Request,
        names: list[str],
        steps: Iterator[ExitStep],
        bucket: str,
        final: bool = False,
    ) -> Prediction | None:
        """Meet the exits `names` one at a time from the lazy `steps`; answer at the first the
        policy accepts (or, with final, at the final exit)."""
        for name in names:
            step: ExitStep = req.timed(name, bucket, next, steps)
            view = self.view(step)
            req.steps.append(view)
            accept = req.policy is not None and req.policy.should_exit(view, req.steps[:-1])
            if accept or (final and step.name == self.final):
                return self._answer(req, view)
        return None

    def _answer(self, req: _Request, view: StepView, deadline_hit: bool = False) -> Prediction:
        req.timings["total"] = time.perf_counter() - req.start
        return Prediction(
            view.prediction,
            list(view.probs),
            view.name,
            view.stage,
            ocr_skipped=req.ocr_calls == 0 and view.stage == "vision",
            ocr_bands=req.ocr_calls,
            deadline_hit=deadline_hit,
            timings=req.timings,
            steps=req.steps,
        )
