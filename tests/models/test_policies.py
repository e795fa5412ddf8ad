"""Each exit policy decides from what it is shown, per page."""

from __future__ import annotations

import pytest

from models.policies import (
    Gate,
    GlobalThreshold,
    Patience,
    PerExitThresholds,
    Similarity,
    StepView,
    describe,
    first_exit,
    heuristic_thresholds,
    make_policy,
    may_exit,
)


def view(name: str, top: float, cls: int = 0, **kw: float) -> StepView:
    rest = (1 - top) / 3
    probs = tuple(top if i == cls else rest for i in range(4))
    stage = "vision" if name.startswith(("vision.", "emb.vision")) else "multimodal"
    return StepView(name, probs, stage, **kw)  # type: ignore[arg-type]


def test_global_threshold() -> None:
    p = GlobalThreshold(0.8)
    assert p.should_exit(view("vision.1", 0.85), []) and not p.should_exit(view("mm.1", 0.79), [])


def test_per_exit_thresholds_only_where_set() -> None:
    p = PerExitThresholds({"vision.2": 0.6})
    assert p.should_exit(view("vision.2", 0.61), [])
    assert not p.should_exit(view("vision.3", 0.99), [])


def test_heuristic_gives_low_thresholds_to_good_exits() -> None:
    taus = heuristic_thresholds(
        {"a": 0.95, "b": 0.6, "c": 0.8}, {"a": 0.02, "b": 0.2, "c": 0.05}, eps=0.1
    )
    assert taus["a"] < taus["c"] < taus["b"]
    assert all(0 < t < 1 for t in taus.values())


def test_similarity_uses_each_modality_threshold() -> None:
    p = Similarity(image=0.95, text=0.9)
    assert p.should_exit(view("vision.3", 0.3, image_similarity=0.96), [])
    assert not p.should_exit(view("vision.3", 0.9, image_similarity=0.94), [])
    assert p.should_exit(view("mm.2", 0.3, image_similarity=0.96, text_similarity=0.91), [])
    assert not p.should_exit(view("mm.2", 0.3, image_similarity=0.96, text_similarity=0.89), [])
    assert not p.should_exit(view("mm.1", 0.99), [])  # no previous layer: no signal


def test_patience_needs_k_agreeing_exits() -> None:
    p = Patience(3)
    a, b = view("vision.1", 0.5, cls=1), view("vision.2", 0.5, cls=1)
    assert p.should_exit(view("vision.3", 0.4, cls=1), [a, b])
    assert not p.should_exit(view("vision.3", 0.9, cls=2), [a, b])
    assert not p.should_exit(b, [a])


def test_gate() -> None:
    assert Gate(0.7).should_exit(view("mm.1", 0.2, gate_prob=0.75), [])
    assert not Gate(0.7).should_exit(view("mm.1", 0.99), [])


def test_first_exit_falls_back_to_the_last() -> None:
    steps = [view("vision.1", 0.5), view("mm.1", 0.6), view("mm.2", 0.7)]
    assert first_exit(GlobalThreshold(0.55), steps) == 1
    assert first_exit(GlobalThreshold(0.99), steps) == 2


def test_make_policy_round_trips_describe() -> None:
    p = make_policy("global", {"tau": 0.9})
    assert describe(p) == {"name": "global", "tau": 0.9}
    with pytest.raises(ValueError, match="unknown policy"):
        make_policy("fastest", {})


def test_policies_say_which_threshold_each_exit_applies() -> None:
    assert GlobalThreshold(0.8).threshold("mm.1") == 0.8
    per_exit = PerExitThresholds({"vision.2": 0.6, "mm.1": 1.5})
    assert per_exit.threshold("vision.2") == 0.6 and per_exit.threshold("mm.2") == float("inf")
    assert Patience(2).threshold("mm.1") is None and Gate(0.5).threshold("mm.1") is None
    assert may_exit(per_exit, "vision.2") and not may_exit(per_exit, "mm.1")  # above 1: never
    assert not may_exit(per_exit, "mm.2") and may_exit(Similarity(0.9, 0.9), "mm.2")
