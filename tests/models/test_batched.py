"""Early exit inside a batch (models.batched): pages that share passes are answered as each is
alone, and pages that leave cost no deeper layer."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from PIL import Image

from models.batched import Batcher, BatcherClosedError, OnBatch, PassStats
from models.multiexit import MultiExitLayoutLMv3
from models.policies import GlobalThreshold, Policy, StepView
from models.runtime import Cascade, PlanMismatchError, Prediction, Words


@dataclass(frozen=True)
class ExitAt:
    """Answers at one named exit: where each page leaves is known in advance."""

    at: str
    name: str = "exit_at"

    def should_exit(self, step: StepView, history: Sequence[StepView]) -> bool:
        return step.name == self.at

    def knob(self) -> dict[str, Any]:
        return {"at": self.at}

    def threshold(self, exit: str) -> float | None:
        return None


def page(seed: int) -> tuple[Image.Image, Words]:
    """A page of its own: grey blocks and 1 to 14 words (so padded text lengths differ)."""
    rng = random.Random(seed)
    image = Image.new("L", (60 + 7 * (seed % 5), 80), 255)
    for _ in range(6):
        x, y = rng.randrange(50), rng.randrange(70)
        image.paste(rng.randrange(200), (x, y, x + 10, y + 8))
    n = 1 + seed % 14
    words = [f"w{rng.randrange(500)}" for _ in range(n)]
    boxes = [(4 * i, 5, 4 * i + 3, 9) for i in range(n)]
    return image, (words, boxes)


def refuse(stage: str) -> Callable[[str], bool]:
    return lambda s: s != stage


POLICIES: list[Policy | None] = [
    None,  # full depth
    GlobalThreshold(0.0),  # the first exit
    GlobalThreshold(0.26),
    GlobalThreshold(0.3),
    GlobalThreshold(1.0),  # no exit accepts: the final one answers
    ExitAt("vision.2"),
    ExitAt("emb.concat"),
    ExitAt("mm.2"),
]


def _alone_and_together(
    model: MultiExitLayoutLMv3, n: int
) -> tuple[list[Prediction], list[Prediction], list[int]]:
    jobs = []
    for i in range(n):
        image, words = page(i)
        can_run = refuse("mm.3") if i % 7 == 3 else None  # some pages meet their deadline
        jobs.append((image, words, POLICIES[i % len(POLICIES)], can_run))
    alone = [Cascade(model).classify(im, words=w, policy=p, can_run=c) for im, w, p, c in jobs]
    sizes: list[int] = []
    batcher = Batcher(max_batch=n, max_wait_s=0.2, on_batch=lambda kind, s: sizes.append(s.pages))
    together = Cascade(model, passes=batcher)
    try:
        with ThreadPoolExecutor(n) as pool:
            futures = [
                pool.submit(together.classify, im, words=w, policy=p, can_run=c)
                for im, w, p, c in jobs
            ]
            batched = [f.result() for f in futures]
    finally:
        batcher.close()
    return alone, batched, sizes


def test_pages_sharing_passes_get_the_answers_they_get_alone(model: MultiExitLayoutLMv3) -> None:
    alone, batched, sizes = _alone_and_together(model, 32)
    assert max(sizes) > 4  # pages really shared passes
    assert len({p.exit for p in alone}) >= 5  # and left at many different exits
    assert any(p.deadline_hit for p in alone)
    for a, b in zip(alone, batched, strict=True):
        assert (b.label, b.exit, b.deadline_hit) == (a.label, a.exit, a.deadline_hit)
        assert [s.name for s in b.steps] == [s.name for s in a.steps]
        assert b.probs == pytest.approx(a.probs, abs=1e-4)
        assert b.answer.features == pytest.approx(a.answer.features, abs=1e-4)


def _layer_batches(model: MultiExitLayoutLMv3) -> list[tuple[int, int]]:
    """(layer, pages) of every encoder layer the model runs from now on."""
    calls: list[tuple[int, int]] = []
    real = model.run_layer

    def spy(i: int, hidden: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        calls.append((i, hidden.shape[0]))
        return real(i, hidden, *args, **kwargs)

    model.run_layer = spy  # type: ignore[method-assign]
    return calls


def _together(
    model: MultiExitLayoutLMv3, policies: list[Policy], on_batch: OnBatch | None = None
) -> list[Prediction]:
    batcher = Batcher(max_batch=len(policies), max_wait_s=0.5, on_batch=on_batch)
    cascade = Cascade(model, passes=batcher)
    words: Words = (["a", "b"], [(1, 1, 5, 5), (6, 1, 9, 5)])
    barrier = threading.Barrier(len(policies))  # every page reaches the batcher together

    def one(p: Policy) -> Prediction:
        barrier.wait()
        return cascade.classify(page(1)[0], words=words, policy=p)

    try:
        with ThreadPoolExecutor(len(policies)) as pool:
            return list(pool.map(one, policies))
    finally:
        batcher.close()


def test_a_batch_that_all_exits_at_the_first_exit_runs_no_layer(
    model: MultiExitLayoutLMv3,
) -> None:
    calls = _layer_batches(model)
    answers = _together(model, [GlobalThreshold(0.0)] * 8)
    assert {p.exit for p in answers} == {"emb.vision_avg"}
    assert calls == []


def test_pages_that_leave_are_dropped_from_the_layers_after(model: MultiExitLayoutLMv3) -> None:
    calls = _layer_batches(model)
    passes: list[PassStats] = []
    policies: list[Policy] = [ExitAt("vision.1")] * 4 + [ExitAt("vision.3")] * 2
    answers = _together(model, policies, lambda kind, stats: passes.append(stats))
    assert [p.exit for p in answers] == ["vision.1"] * 4 + ["vision.3"] * 2
    assert calls == [(0, 6), (1, 2), (2, 2)]  # layer 0 for all, then only the two that go on
    # One vision pass: 10 page-layers run where 18 would run without dropping pages.
    assert passes == [PassStats(pages=6, layer_rows=10, full_rows=18)]
    assert passes[0].saved == pytest.approx(8 / 18)


def test_a_failing_pass_fails_every_page_in_it_and_none_hangs(
    model: MultiExitLayoutLMv3,
) -> None:
    def broken(state: Any) -> Any:  # noqa: ARG001 (vision_layers' signature)
        raise PlanMismatchError("broken on purpose")
        yield  # pragma: no cover

    model.vision_layers = broken  # type: ignore[method-assign]
    with pytest.raises(PlanMismatchError, match="broken on purpose"):
        _together(model, [GlobalThreshold(0.99)] * 3)


def test_the_batcher_refuses_a_batch_size_below_one() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Batcher(max_batch=0, max_wait_s=0.01)


def test_a_closed_batcher_refuses_pages_instead_of_leaving_them_waiting(
    model: MultiExitLayoutLMv3,
) -> None:
    batcher = Batcher(max_batch=4, max_wait_s=0.01)
    cascade = Cascade(model, passes=batcher)
    image, words = page(3)
    assert cascade.classify(image, words=words, policy=None).exit == "mm.3"
    batcher.close()
    with pytest.raises(BatcherClosedError, match="closed"):
        cascade.classify(image, words=words, policy=None)


@pytest.mark.parametrize("policy", [None, GlobalThreshold(0.26), ExitAt("mm.1")])
def test_pages_classified_together_in_lockstep_get_their_answers_alone(
    model: MultiExitLayoutLMv3, policy: Policy | None
) -> None:
    pages = [page(i) for i in range(12)]
    cascade = Cascade(model)
    together = cascade.classify_together(pages, policy)
    for (image, words), b in zip(pages, together, strict=True):
        a = cascade.classify(image, words=words, policy=policy)
        assert (b.label, b.exit, [s.name for s in b.steps]) == (
            a.label,
            a.exit,
            [s.name for s in a.steps],
        )
        assert b.probs == pytest.approx(a.probs, abs=1e-4)
