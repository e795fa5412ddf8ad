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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from models.bands import OcrFn, Words, band_cut, ocr_band
from models.batched import Kind, Lane, PassRunner, Stopped, run_pass
from models.batched import PlanMismatchError as PlanMismatchError  # where callers look for it
from models.card import DEFAULT_BAND, Card
from models.inputs import TextInputs, encode_words, image_tensor
from models.multiexit import ExitStep, MultiExitLayoutLMv3, MultimodalState
from models.plan import OCR_BAND, OCR_PAGE, Exit, Stage
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
    kept_text: KeptText | None = None  # with PageRun.keep_text: the answering pass's stream
    image_tokens: torch.Tensor | None = None  # with keep_text: the page's image embedding

    @property
    def answer(self) -> StepView:
        """The answering exit as the policy saw it."""
        return next(s for s in reversed(self.steps) if s.name == self.exit)

    @property
    def encoder_seconds(self) -> float:
        return self.timings.get("vision", 0.0) + self.timings.get("multimodal", 0.0)


@dataclass
class KeptText:
    """The multimodal stream of the pass that answered, where it stopped, and its words."""

    state: MultimodalState
    text: TextInputs


@dataclass
class PageRun:
    """One classify call's state."""

    image: Image.Image
    tokens: torch.Tensor | None  # the image embedding, shared by both streams, once computed
    policy: Policy | None
    can_run: CanRun | None
    on_stage: OnStage | None
    start: float = field(default_factory=time.perf_counter)
    steps: list[StepView] = field(default_factory=list)
    timings: dict[str, float] = field(
        default_factory=lambda: {"vision": 0.0, "ocr": 0.0, "multimodal": 0.0}
    )
    ocr_calls: int = 0
    # Set keep_text to have the multimodal pass that answers leave its state behind (the field
    # decoder continues it rather than running the encoder again): kept_text.
    keep_text: bool = False
    kept_text: KeptText | None = None

    def check(self, stage: str) -> None:
        # Full depth ignores deadlines; and with nothing said yet there is nothing to answer.
        if self.policy is not None and self.can_run and self.steps and not self.can_run(stage):
            raise Stopped(stage)

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
    """A model with one temperature per exit, deciding each page's exits on its own. band: the
    share of the page height OCR'd first (None: whole pages in one OCR call). passes: what runs
    a page's encoder passes (models.batched): alone by default, or a batcher that lets pages
    share them (service.batcher)."""

    def __init__(
        self,
        model: MultiExitLayoutLMv3,
        temperatures: dict[str, float] | None = None,
        band: float | None = DEFAULT_BAND,
        device: str = "cpu",
        passes: PassRunner = run_pass,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.model = model.eval()
        self.passes = passes
        self.dtype = dtype  # autocast to it (bfloat16, float16); None: the weights' own
        self.device = torch.device(device)
        self.temperatures = dict(temperatures or {})
        self.plan = model.config.plan
        self.band = band

    @classmethod
    def from_card(
        cls,
        model: MultiExitLayoutLMv3,
        card: Card,
        device: str = "cpu",
        dtype: torch.dtype | None = None,
    ) -> Cascade:
        """The cascade a checkpoint describes: its temperatures and its OCR band."""
        return cls(model, card.temperatures, card.ocr_band, device, dtype=dtype)

    def alone(self) -> Cascade:
        """The same cascade running its pages alone (not through a batcher)."""
        return Cascade(self.model, self.temperatures, self.band, str(self.device), dtype=self.dtype)

    def view(self, step: ExitStep, row: int = 0) -> StepView:
        """Page `row` of the batch at one exit, as the policies see it."""
        t = self.temperatures.get(step.name, 1.0)
        probs = torch.softmax(step.logits[row].float() / t, -1)

        def scalar(x: torch.Tensor | None) -> float | None:
            return None if x is None else float(x[row])

        gate = None if step.gate is None else float(torch.sigmoid(step.gate[row]))
        return StepView(
            step.name,
            tuple(probs.tolist()),
            self.plan.stage(step.name),
            gate,
            scalar(step.image_similarity),
            scalar(step.text_similarity),
            tuple(step.logits[row].float().tolist()),
            None if step.features is None else tuple(step.features[row].float().tolist()),
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
        keep_text: bool = False,
    ) -> Prediction:
        """policy None means full depth: no vision stream, whole-page OCR, every multimodal layer.
        With a policy: the vision exits; then, unless words are given, the top band's OCR and the
        multimodal exits on its words; the whole page is read, and every multimodal exit met on
        its words, only if none of them accepts. So a run that never exits early answers as full
        depth does, exit for exit on the last pass."""
        if words is None and ocr is None:
            raise ValueError("no OCR engine and no words: the multimodal stage needs text")
        c = self.model.config
        req = PageRun(image, None, policy, can_run, on_stage, keep_text=keep_text)
        pixels = image_tensor(image, c.image_size, c.pixels, c.page_fit)
        req.timings["vision"] = time.perf_counter() - req.start  # the pass adds the embedding
        try:
            return self._run(req, pixels, ocr, words)
        except Stopped:
            best = max(req.steps, key=lambda s: s.confidence)  # calibrated: comparable
            return self.answer(req, best, deadline_hit=True)

    def _vision_exits(self, policy: Policy | None) -> Sequence[Exit]:
        if policy is None:
            return ()  # full depth: the image embedding alone
        names = vision_exits_to_run(policy, [e.name for e in self.plan.vision])
        return self.plan.vision[: len(names)]  # no layer that leads nowhere

    @torch.inference_mode()
    def classify_together(
        self, pages: Sequence[tuple[Image.Image, Words]], policy: Policy | None = None
    ) -> list[Prediction]:
        """Pages that bring their own words (no OCR, no deadline), in lockstep: one vision pass
        for all, then one multimodal pass for the undecided; what a batcher gives pages that
        arrive together, with no thread per page (benchmarks, offline runs)."""
        c = self.model.config
        runs = [PageRun(image, None, policy, None, None) for image, _ in pages]
        exits = self._vision_exits(policy)
        lanes = [
            Lane(run, exits, pixels=image_tensor(run.image, c.image_size, c.pixels, c.page_fit))
            for run in runs
        ]
        self.passes(self, "vision", lanes)
        texts = [
            Lane(lane.run, self.plan.multimodal, text=self._encode(lane.run, words), final=True)
            for lane, (_, words) in zip(lanes, pages, strict=True)
            if lane.answer is None
        ]
        if texts:
            self.passes(self, "multimodal", texts)
        answers = {id(lane.run): lane.answer for lane in (*lanes, *texts) if lane.answer}
        return [answers[id(run)] for run in runs]

    def _pass(self, kind: Kind, lane: Lane) -> Prediction | None:
        self.passes(self, kind, [lane])
        if lane.stopped:
            raise Stopped
        return lane.answer

    def _run(
        self, req: PageRun, pixels: torch.Tensor, ocr: OcrFn | None, words: Words | None
    ) -> Prediction:
        answer = self._pass("vision", Lane(req, self._vision_exits(req.policy), pixels=pixels))
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

    def _encode(self, req: PageRun, words: Words) -> TextInputs:
        c = self.model.config
        return encode_words(words[0], words[1], req.image.size, c.max_text_tokens, c.page_fit)

    def _ocr(self, req: PageRun, stage: str, ocr: OcrFn, top: int, bottom: int) -> Words:
        if stage == OCR_PAGE:  # the whole page, in one call
            words: Words = req.timed(stage, "ocr", ocr, req.image)
        else:
            words = req.timed(stage, "ocr", ocr_band, ocr, req.image, top, bottom)
        req.ocr_calls += 1
        return words

    def _last_pass(self, req: PageRun, text: TextInputs) -> Prediction:
        answer = self._multimodal(req, text, self.plan.multimodal, last=True)
        assert answer is not None  # the last pass always answers, at the final exit at the latest
        return answer

    def _multimodal(
        self, req: PageRun, text: TextInputs, exits: Sequence[Exit], *, last: bool = False
    ) -> Prediction | None:
        """One multimodal pass over `text`, meeting `exits` (the plan's first ones). The last
        pass answers at the final exit at the latest; a top-band pass returns None when none of
        its exits accepts."""
        return self._pass("multimodal", Lane(req, exits, text=text, final=last))

    def answer(self, req: PageRun, view: StepView, deadline_hit: bool = False) -> Prediction:
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
            kept_text=req.kept_text,
            image_tokens=req.tokens if req.keep_text else None,
        )
