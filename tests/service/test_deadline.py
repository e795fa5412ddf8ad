"""The service's deadline cascade answers exactly as models.runtime.Cascade when no deadline
binds, and stops early (never OCR) when one does."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from models.card import Latency
from models.checkpoint import load_checkpoint
from models.policies import GlobalThreshold, Patience
from models.runtime import Cascade
from service import deadline as anytime
from service.deadline import Deadline
from service.latency_model import LatencyModel
from tests.service.conftest import LATENCY

WORDS = (["Total", "due", "now"], [(10, 10, 60, 20), (70, 10, 100, 20), (10, 40, 50, 52)])


@pytest.fixture(scope="module")
def cascade(checkpoint_dir: Path) -> Cascade:
    model, card = load_checkpoint(checkpoint_dir)
    return Cascade(model, {"mm.2": 0.5, "vision.1": 2.0}, card.ocr_band)


def page() -> Image.Image:
    image = Image.new("L", (120, 160), 230)
    image.paste(0, (10, 10, 100, 30))
    return image


@pytest.mark.parametrize(
    "policy", [None, GlobalThreshold(0.0), GlobalThreshold(0.999), Patience(2)]
)
def test_same_answer_as_the_model_runtime(cascade: Cascade, policy: object) -> None:
    latency = LatencyModel(Latency.model_validate(LATENCY), cascade.plan)
    ours = anytime.run(cascade, page(), policy, Deadline(None), latency, words=WORDS)  # type: ignore[arg-type]
    theirs = cascade.classify(page(), words=WORDS, policy=policy)  # type: ignore[arg-type]
    assert ours.answer.name == theirs.exit and not ours.deadline_hit
    assert ours.answer.probs == pytest.approx(tuple(theirs.probs), abs=1e-6)
    assert [s.name for s in ours.steps] == [s.name for s in theirs.steps]


def test_a_deadline_never_starts_a_stage_it_cannot_pay(cascade: Cascade) -> None:
    latency = LatencyModel(Latency.model_validate(LATENCY), cascade.plan)
    for _ in range(40):
        latency.observe("vision.2", 10.0)
    calls: list[int] = []
    out = anytime.run(
        cascade,
        page(),
        GlobalThreshold(0.999),
        Deadline(1.0),
        latency,
        ocr=lambda image: calls.append(1) or WORDS,  # type: ignore[func-returns-value]
    )
    assert out.deadline_hit and out.ocr_skipped and not calls
    assert [s.name for s in out.steps] == ["emb.vision_avg", "vision.1"]
