"""Budget to policy: monotone in the budget, priced with live latencies; settings refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from models.card import Card, Latency, OperatingPoint
from models.checkpoint import read_card
from service.budget import resolve
from service.deadline import Deadline
from service.ladder import choose_point, ladder
from service.latency_model import LatencyModel
from service.settings import Settings, usable_cores
from tests.service.conftest import LATENCY, TOKEN, make_settings


@pytest.fixture
def card(checkpoint_dir: Path) -> Card:
    return read_card(checkpoint_dir)


def test_more_budget_never_buys_a_less_accurate_or_shallower_point(card: Card) -> None:
    latency = LatencyModel(Latency.model_validate(LATENCY), card.model_shape().plan)
    chosen = [
        resolve("auto", "request", ms, card, latency)
        for ms in (1, 5, 50, 100, 200, 230, 300, 10_000)
    ]
    accuracy = [c.expected_accuracy for c in chosen]
    assert accuracy == sorted(accuracy)  # type: ignore[type-var]
    assert accuracy[0] == 0.4 and accuracy[-1] == 0.95  # cheapest ... most accurate
    assert len(set(accuracy)) >= 3  # the sweep really moves through the table
    for c, ms in zip(chosen[1:], (5, 50, 100, 200, 230, 300, 10_000), strict=True):
        assert c.point is not None and latency.bound(c.point) <= ms / 1000.0


def test_live_latency_reprices_the_table(card: Card) -> None:
    latency = LatencyModel(Latency.model_validate(LATENCY), card.model_shape().plan)
    fast = resolve("auto", "request", 300, card, latency)
    for _ in range(60):  # OCR got 10x slower on this machine
        latency.observe("ocr", 2.0)
    slow = resolve("auto", "request", 300, card, latency)
    assert slow.expected_accuracy is not None and fast.expected_accuracy is not None
    assert slow.expected_accuracy < fast.expected_accuracy


def test_a_family_or_nothing_fits(card: Card) -> None:
    latency = LatencyModel(Latency.model_validate(LATENCY), card.model_shape().plan)
    only_global = resolve("global", "request", 100, card, latency)
    assert only_global.name == "global"
    assert choose_point(card.policy_points(), 0.0, latency) is not None  # the cheapest
    no_budget = resolve("auto", "settings", None, card, latency)
    assert no_budget.source == "card" and no_budget.knob == {"tau": 1.1}


def test_deadline_accounting() -> None:
    d = Deadline(0.5)
    assert d.can_pay(0.1) and not d.can_pay(1.0) and d.remaining() <= 0.5
    assert Deadline(None).can_pay(1e9)


def test_latency_model_floors_unmeasured_multimodal_layers(card: Card) -> None:
    stages = dict(LATENCY["stages"], **{"mm.2": 1e-6})  # type: ignore[arg-type]
    latency = LatencyModel(Latency(ocr=1.0, stages=stages), card.model_shape().plan)
    assert latency.get("mm.2") == pytest.approx(0.002)  # the mean vision layer


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"admin_token": "short"}, "at least 16"),
        ({"admin_token": "a" * 20}, "repetitive"),
        ({"redis_url": "http://localhost"}, "redis://"),
        ({"policy": "yolo"}, "DOCEXIT_POLICY"),
        ({"max_upload_bytes": 0}, "greater than 0"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_insecure_or_invalid_settings_are_refused(
    checkpoint_dir: Path, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make_settings(checkpoint_dir, **overrides)


def test_settings_come_from_docexit_env(
    checkpoint_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCEXIT_CHECKPOINT", str(checkpoint_dir))
    monkeypatch.setenv("DOCEXIT_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("DOCEXIT_LATENCY_BUDGET_MS", "250")
    s = Settings()
    assert s.latency_budget_ms == 250 and s.admin_token is not None
    assert TOKEN not in repr(s)  # a secret never reaches a log line
    monkeypatch.setenv("DOCEXIT_CHECKPOINT", str(tmp_path))
    with pytest.raises(ValidationError, match="card.json"):
        Settings()


def test_usable_cores_follow_the_cgroup_cpu_quota(tmp_path: Path) -> None:
    affinity = usable_cores(tmp_path / "absent")  # no quota file: every CPU we may run on
    assert affinity >= 1
    quota = tmp_path / "cpu.max"
    quota.write_text("150000 100000\n")  # 1.5 CPUs: two threads, not the node's count
    assert usable_cores(quota) == min(affinity, 2)
    quota.write_text("max 100000\n")
    assert usable_cores(quota) == affinity


def test_the_ladder_never_trades_budget_for_a_shallower_answer() -> None:
    # A cheap point that exits deep (as patience does) and a dearer, shallower, more accurate
    # one: picking "most accurate that fits" would go deep first, then shallower.
    points = [OperatingPoint.model_validate(p) for p in [
        {"policy": {"name": "patience", "k": 2}, "accuracy": 0.70, "mean_exit_layer": 2.0,
         "encoder_s": 0.001, "ocr_s": 0.0},
        {"policy": {"name": "global", "tau": 0.6}, "accuracy": 0.78, "mean_exit_layer": 1.3,
         "encoder_s": 0.002, "ocr_s": 0.2},
        {"policy": {"name": "global", "tau": 0.9}, "accuracy": 0.92, "mean_exit_layer": 1.6,
         "encoder_s": 0.003, "ocr_s": 0.8},
    ]]  # fmt: skip
    latency = LatencyModel(Latency(ocr=1.0), None)
    chosen = [choose_point(points, ms / 1000, latency) for ms in (1, 10, 100, 300, 1000, 5000)]
    depth = [p.mean_exit_layer for p in chosen if p]
    accuracy = [p.accuracy for p in chosen if p]
    assert depth == sorted(depth) and accuracy == sorted(accuracy)
    assert chosen[-1] == points[2] and chosen[0] == points[1]  # the deep cheap point is skipped


def point(
    policy: dict[str, Any], accuracy: float, index: float, ocr_s: float, ocr_p90_s: float
) -> OperatingPoint:
    """An operating point as the card records it; 20 ms of encoder (30 ms for nine in ten)."""
    return OperatingPoint.model_validate(
        {
            "policy": policy,
            "accuracy": accuracy,
            "mean_exit_index": index,
            "encoder_s": 0.02,
            "ocr_s": ocr_s,
            "encoder_p90_s": 0.03,
            "ocr_p90_s": ocr_p90_s,
        }
    )


def test_a_budget_must_cover_the_pages_that_need_ocr_not_just_the_mean() -> None:
    # Seven pages in ten answer at a vision exit in 20 ms and three need 1 s of OCR: the mean
    # (0.32 s) fits a 0.5 s budget, but every OCR page would be cut by its deadline there.
    mixed = point({"name": "global", "tau": 0.7}, 0.82, 3.5, ocr_s=0.3, ocr_p90_s=1.0)
    vision = point({"name": "patience", "k": 3}, 0.75, 3.4, ocr_s=0.01, ocr_p90_s=0.0)
    # Dearer, less accurate and deeper than `mixed`: never a rung.
    dominated = point({"name": "global", "tau": 0.6}, 0.80, 3.6, ocr_s=0.4, ocr_p90_s=1.1)
    latency = LatencyModel(Latency(ocr=1.0), None)
    points = [mixed, vision, dominated]
    assert latency.price(mixed) < 0.5 < latency.bound(mixed)
    assert choose_point(points, 0.5, latency) is vision
    assert choose_point(points, 1.5, latency) is mixed
    for _ in range(60):  # OCR got twice as slow: 1.5 s no longer covers the OCR pages
        latency.observe("ocr", 2.0)
    assert choose_point(points, 1.5, latency) is vision
    assert [p for _, p in ladder(points, latency)] == [vision, mixed]
