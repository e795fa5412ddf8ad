"""Start-up warm-up: blank pages through both streams (every vision exit, then every multimodal
layer), without OCR, and without teaching the live latency model its cold timings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.runtime import Prediction
from tests.service.conftest import FakeOcr, loader_for, make_settings


def test_warm_up_runs_both_streams_and_leaves_the_latency_model_alone(
    checkpoint_dir: Path,
) -> None:
    ocr = FakeOcr()
    engine = loader_for(ocr)(make_settings(checkpoint_dir))
    seen: list[Prediction] = []
    classify = engine.cascade.classify

    def spy(*args: Any, **kwargs: Any) -> Prediction:
        seen.append(classify(*args, **kwargs))
        return seen[-1]

    engine.cascade.classify = spy  # type: ignore[method-assign]
    before = engine.latency.snapshot()
    try:
        engine.warm_up(2)
    finally:
        engine.close()
    assert len(seen) == 2 and ocr.calls == 0
    for pred in seen:
        met = [s.name for s in pred.steps]
        vision = [n for n in engine.exits if n.startswith("vision.")]
        assert vision and set(vision) <= set(met), met  # the whole vision stream ran
        assert met[-1] == engine.exits[-1], met  # and the multimodal one to its last exit
    assert engine.latency.snapshot() == before
