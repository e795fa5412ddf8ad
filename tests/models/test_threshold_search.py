"""The per-exit threshold search: its vectorised decisions are the policies' own, it keeps its
accuracy bounds against full depth, looser bounds never cost more, and it prices both ratios."""

from __future__ import annotations

import random

import pytest
import torch

from models.collect import ExitOutputs
from models.operating_points import evaluate_policy
from models.policies import PerExitThresholds, first_exit
from models.threshold_search import Table, search_per_exit
from models.traces import build_traces
from tests.models.test_operating_points import LATENCY, ORDER, PLAN, _traces


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_table_decides_as_the_policy_does(seed: int) -> None:
    traces, labels = _traces(seed=seed)
    table = Table.build(traces, LATENCY)
    rng = random.Random(seed)
    for _ in range(20):
        taus = {n: rng.choice([0.3, 0.5, 0.7, 0.9, 2.0]) for n in ORDER[:-1] if rng.random() < 0.7}
        policy = PerExitThresholds(taus)
        pred, cost = table.decide(taus)
        expected = [t.views[first_exit(policy, t.views)].prediction for t in traces]
        assert pred.tolist() == expected
        point = evaluate_policy(policy, traces, labels, LATENCY)
        assert cost[:, 0].mean() == pytest.approx(point.encoder_s)
        assert cost[:, 1].mean() == pytest.approx(point.end_to_end_s)


@pytest.mark.parametrize("seed", [0, 1])
def test_search_keeps_its_bounds(seed: int) -> None:
    traces, labels = _traces(seed=seed)
    n = len(labels)
    full = [t.full.prediction == y for t, y in zip(traces, labels, strict=True)]
    never = [t.views[-1].prediction == y for t, y in zip(traces, labels, strict=True)]
    allowed = 0
    for loss, harm_bound in ((0.0, 0.0), (0.01, 0.01), (0.05, 0.02), (0.1, 0.05)):
        taus = search_per_exit(traces, labels, LATENCY, max_loss=loss, max_harm=harm_bound)
        policy = PerExitThresholds(taus)
        right = [
            t.views[first_exit(policy, t.views)].prediction == y
            for t, y in zip(traces, labels, strict=True)
        ]
        if not taus:  # nothing allowed: never exit early
            assert right == never
            continue
        allowed += 1
        assert (sum(full) - sum(right)) / n <= loss + 1e-9  # net, against full depth
        assert sum(v and not r for v, r in zip(never, right, strict=True)) / n <= harm_bound + 1e-9
    assert allowed >= 2


def test_no_allowed_policy_means_never_exiting_early() -> None:
    traces, _ = _traces()
    perfect = [t.full.prediction for t in traces]  # full depth right on every page
    # A gain of 50 points over a perfect full depth: impossible, so no exit may ever fire.
    assert search_per_exit(traces, perfect, LATENCY, max_loss=-0.5) == {}


def test_looser_bounds_buy_a_lower_price() -> None:
    traces, labels = _traces()

    full = evaluate_policy(None, traces, labels, LATENCY)

    def price(bound: float) -> float:
        taus = search_per_exit(traces, labels, LATENCY, max_loss=bound, max_harm=bound)
        point = evaluate_policy(PerExitThresholds(taus), traces, labels, LATENCY)
        ratios = (
            point.encoder_s / full.encoder_s / 0.5,
            point.end_to_end_s / full.end_to_end_s / 0.6,
        )
        return max(ratios)

    assert price(0.2) < price(0.02) < price(0.0)


def _clean_traces(n: int = 120) -> tuple[list, list[int]]:
    """vision.1 is always right and sure; every other exit sure and wrong half the time."""
    rng = random.Random(3)
    labels = [rng.randrange(4) for _ in range(n)]
    logits = {}
    for name in ORDER:
        rows = []
        for y in labels:
            cls = y if name in ("vision.1", "mm.2") or rng.random() < 0.5 else (y + 1) % 4
            rows.append([0.97 if i == cls else 0.01 for i in range(4)])
        logits[name] = torch.tensor(rows).log()
    out = ExitOutputs(torch.tensor(labels), logits)
    return build_traces(out, None, [False] * n, {}, PLAN), labels


def test_a_reliable_cheap_exit_is_taken_and_an_unreliable_one_left_out() -> None:
    traces, labels = _clean_traces()
    taus = search_per_exit(traces, labels, LATENCY, max_loss=0.0, max_harm=0.0)
    assert taus.get("vision.1", 2.0) <= 0.97  # every page stops there, right
    assert "emb.vision_avg" not in taus  # sure and wrong half the time: never allowed to stop
    point = evaluate_policy(PerExitThresholds(taus), traces, labels, LATENCY)
    assert point.accuracy == 1.0 and point.ocr_skip_rate == 1.0


def test_the_price_weighs_encoder_time_against_its_target() -> None:
    traces, labels = _clean_traces()
    # With encoder time nearly free to spend, the search still skips OCR with vision.1; with a
    # tight encoder target, it must still find the cheapest encoder path: vision.1 is it here.
    for target in (0.05, 5.0):
        taus = search_per_exit(traces, labels, LATENCY, max_harm=0.0, encoder_target=target)
        assert taus.get("vision.1", 2.0) <= 0.97


def test_once_the_targets_are_met_accuracy_decides() -> None:
    traces, labels = _traces()

    def accuracy(target: float) -> float:
        taus = search_per_exit(
            traces,
            labels,
            LATENCY,
            max_loss=0.2,
            max_harm=0.2,
            encoder_target=target,
            end_to_end_target=target,
        )
        return float(evaluate_policy(PerExitThresholds(taus), traces, labels, LATENCY).accuracy)

    never = evaluate_policy(PerExitThresholds({}), traces, labels, LATENCY).accuracy
    # Targets any policy meets: no speed is worth a page, so nothing beats never exiting early
    # (and an exit that helps, if any, is kept).
    assert accuracy(100.0) >= never
    assert accuracy(100.0) >= accuracy(0.3)  # tight targets trade accuracy for time
