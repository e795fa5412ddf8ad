"""Operating points: the per-exit search keeps its accuracy promise; costs follow the exit mix."""

from __future__ import annotations

import random

import pytest

from models.operating_points import evaluate_policy, page_cost, search_per_exit
from models.policies import GlobalThreshold, PerExitThresholds, StepView

ORDER = ["emb.vision_avg", "vision.1", "vision.2", "emb.text_avg", "mm.1", "mm.2"]
LATENCY = {
    "ocr": 1.0,
    "stages": {
        "embed": 0.01,
        "emb.vision_avg": 0.001,
        "vision.1": 0.01,
        "vision.2": 0.01,
        "emb.text_avg": 0.005,
        "mm.1": 0.02,
        "mm.2": 0.02,
    },
}


def _pages(n: int = 200) -> tuple[list[list[StepView]], list[int]]:
    """Exits that get more accurate with depth; confidence tracks correctness loosely."""
    rng = random.Random(0)
    pages, labels = [], []
    for _ in range(n):
        y = rng.randrange(4)
        steps = []
        for depth, name in enumerate(ORDER):
            right = rng.random() < 0.5 + 0.1 * depth
            cls = y if right else (y + 1) % 4
            top = min(0.99, (0.6 if right else 0.4) + rng.random() * 0.4)
            probs = tuple(top if i == cls else (1 - top) / 3 for i in range(4))
            steps.append(StepView(name, probs))
        pages.append(steps)
        labels.append(y)
    return pages, labels


def test_search_keeps_accuracy_within_target() -> None:
    pages, labels = _pages()
    full = evaluate_policy(None, pages, labels, LATENCY, "mm.2")
    for target in (0.0, 0.02, 0.05):
        taus = search_per_exit(pages, labels, target)
        point = evaluate_policy(PerExitThresholds(taus), pages, labels, LATENCY, "mm.2")
        assert point["accuracy"] >= full["accuracy"] - target - 1e-9
    loose = evaluate_policy(
        PerExitThresholds(search_per_exit(pages, labels, 0.05)), pages, labels, LATENCY, "mm.2"
    )
    strict = evaluate_policy(
        PerExitThresholds(search_per_exit(pages, labels, 0.0)), pages, labels, LATENCY, "mm.2"
    )
    assert loose["end_to_end_s"] <= strict["end_to_end_s"]


def test_costs_charge_ocr_only_past_the_vision_stage() -> None:
    assert page_cost(1, ORDER, LATENCY) == pytest.approx((0.021, 0.021))
    enc, e2e = page_cost(4, ORDER, LATENCY)
    assert e2e == pytest.approx(enc + 1.0)


def test_full_depth_and_threshold_extremes() -> None:
    pages, labels = _pages()
    full = evaluate_policy(None, pages, labels, LATENCY, "mm.2")
    assert full["ocr_skip_rate"] == 0 and full["mean_exit_layer"] == 2
    assert full["encoder_s"] == pytest.approx(0.01 + 0.02 + 0.02)
    eager = evaluate_policy(GlobalThreshold(0.0), pages, labels, LATENCY, "mm.2")
    assert eager["ocr_skip_rate"] == 1.0 and eager["end_to_end_s"] < full["end_to_end_s"]
    never = evaluate_policy(GlobalThreshold(1.1), pages, labels, LATENCY, "mm.2")
    assert never["accuracy"] == full["accuracy"] and never["ocr_skip_rate"] == 0
