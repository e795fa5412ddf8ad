"""The anytime cascade for one page, run for real: image-only layers first, OCR only if no vision
exit accepts, then multimodal layers one at a time, stopping at the first exit the policy accepts.
Used by evaluation and by the service; policies come from models.policies."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from PIL import Image

from models.inputs import encode_words, image_tensor
from models.multiexit import ExitStep, MultiExitLayoutLMv3
from models.policies import Policy, StepView

Words = tuple[list[str], Sequence[Sequence[float]]]  # texts, pixel boxes (x0, y0, x1, y1)
OcrFn = Callable[[Image.Image], Words]


@dataclass
class Prediction:
    label: int
    probs: list[float]  # calibrated
    exit: str  # e.g. "vision.2", "mm.6"
    stage: str  # "vision" | "multimodal"
    ocr_skipped: bool
    timings: dict[str, float] = field(
        default_factory=dict
    )  # seconds: vision, ocr, multimodal, total
    steps: list[StepView] = field(default_factory=list)  # every exit met, in order

    @property
    def layer(self) -> int:
        """Encoder layers run in the answering stream (0 for an embedding exit)."""
        where = self.exit.split(".")[1]
        return int(where) if where.isdigit() else 0

    @property
    def encoder_seconds(self) -> float:
        return self.timings.get("vision", 0.0) + self.timings.get("multimodal", 0.0)


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

    def _answer(
        self, view: StepView, ocr_skipped: bool, timings: dict[str, float], steps: list[StepView]
    ) -> Prediction:
        return Prediction(
            view.prediction, list(view.probs), view.name, view.stage, ocr_skipped, timings, steps
        )

    @torch.inference_mode()
    def classify(
        self,
        image: Image.Image,
        ocr: OcrFn | None = None,
        words: Words | None = None,
        policy: Policy | None = None,
    ) -> Prediction:
        """policy None means full depth: no vision stream, OCR, every multimodal layer."""
        c = self.model.config
        start = time.perf_counter()
        timings: dict[str, float] = {}
        steps: list[StepView] = []
        pixels = image_tensor(image, c.image_size).unsqueeze(0).to(self.device)
        image_tokens = self.model.embed_image(pixels)
        if policy is not None:
            t = time.perf_counter()
            for step in self.model.vision_steps(image_tokens):
                view = self.view(step)
                steps.append(view)
                if policy.should_exit(view, steps[:-1]):
                    timings["vision"] = time.perf_counter() - t
                    timings["total"] = time.perf_counter() - start
                    return self._answer(view, True, timings, steps)
            timings["vision"] = time.perf_counter() - t
        t = time.perf_counter()
        if words is None:
            if ocr is None:
                raise ValueError("no OCR engine and no words: the multimodal stage needs text")
            words = ocr(image)
        timings["ocr"] = time.perf_counter() - t
        t = time.perf_counter()
        text = encode_words(words[0], words[1], image.size, c.max_text_tokens)
        ids, bbox, mask = (
            x.unsqueeze(0).to(self.device) for x in (text.input_ids, text.bbox, text.attention_mask)
        )
        state, first = self.model.start_multimodal(image_tokens, ids, bbox, mask)
        for step in self._chain(first, state, bbox):
            view = self.view(step)
            steps.append(view)
            if step.name == self.final or (
                policy is not None and policy.should_exit(view, steps[:-1])
            ):
                break
        timings["multimodal"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - start
        return self._answer(steps[-1], False, timings, steps)

    def _chain(self, first: list[ExitStep], state: Any, bbox: torch.Tensor) -> Any:
        """Embedding exits, then layers lazily: the generator runs a layer only when asked."""
        yield from first
        yield from self.model.multimodal_steps(state, bbox)
