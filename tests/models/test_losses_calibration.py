"""Exit-loss weighting and the calibration maths."""

from __future__ import annotations

import pytest
import torch

from models.calibration import brier, calibrate, ece, fit_temperature, metrics, nll
from models.losses import entropy_damping, exit_weights, joint_loss
from models.multiexit import MultiExitLayoutLMv3
from tests.models.conftest import tiny_batch, tiny_config

NAMES = ["emb.vision_avg", "vision.1", "vision.2", "mm.1", "mm.2"]


def test_paper_weighting() -> None:
    w = exit_weights(NAMES, "mm.2", 0.7, "weighted")
    assert w["mm.2"] == pytest.approx(0.3)
    assert all(w[n] == pytest.approx(0.7 / 4) for n in NAMES[:-1])
    assert sum(w.values()) == pytest.approx(1.0)


def test_cost_weighting_favours_cheap_exits() -> None:
    cost = {"emb.vision_avg": 1.0, "vision.1": 2.0, "vision.2": 3.0, "mm.1": 2.0, "mm.2": 3.0}
    w = exit_weights(NAMES, "mm.2", 0.7, "cost", cost)
    assert w["emb.vision_avg"] > w["vision.1"] > w["vision.2"]
    assert sum(w.values()) == pytest.approx(1.0) and w["mm.2"] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="loss scheme"):
        exit_weights(NAMES, "mm.2", 0.7, "nope")


def test_entropy_damping_silences_the_most_uncertain_exit() -> None:
    sure = torch.tensor([[10.0, 0, 0], [0, 10.0, 0]])
    unsure = torch.zeros(2, 3)
    d = entropy_damping({"a": sure, "b": sure, "c": unsure})
    assert d["c"] == 0.0 and 0.0 < d["a"] <= 1.0 and d["a"] == d["b"]


@pytest.mark.parametrize(
    ("head", "scheme"), [("ramp", "weighted"), ("ramp", "entropyreg"), ("gate", "weighted")]
)
def test_joint_loss_trains_every_exit(head: str, scheme: str) -> None:
    torch.manual_seed(0)
    model = MultiExitLayoutLMv3(tiny_config(head=head)).train()
    out = model(**tiny_batch(b=4))
    names = model.config.exit_names() if head == "ramp" else list(out.steps)
    weights = exit_weights(names, model.config.final_exit, 0.7, "weighted")
    loss, parts = joint_loss(out, torch.tensor([0, 1, 2, 3]), weights, scheme)
    loss.backward()
    assert set(names) <= set(parts)
    assert (head == "gate") == any(k.endswith(".gate") for k in parts)
    assert all(
        h.net[1].weight.grad is not None
        for n, h in model.heads.items()
        if n != "emb_concat" or head == "ramp"
    )


def _overconfident(n: int = 4000, t0: float = 2.5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    true_logits = torch.randn(n, 6, generator=g) * 2.0
    labels = torch.multinomial(torch.softmax(true_logits, -1), 1, generator=g).squeeze(1)
    return true_logits * t0, labels  # sharpened: an overconfident model


def test_temperature_recovers_the_sharpening() -> None:
    logits, labels = _overconfident(t0=2.5)
    assert fit_temperature(logits, labels) == pytest.approx(2.5, rel=0.1)


def test_calibration_lowers_ece_and_nll() -> None:
    logits, labels = _overconfident()
    temps, report = calibrate({"x": logits}, labels)
    before, after = report["x"]["before"], report["x"]["after"]
    assert after["ece"] < 0.5 * before["ece"]
    assert after["nll"] < before["nll"] and after["brier"] <= before["brier"]
    assert after["accuracy"] == before["accuracy"]  # temperature never changes the argmax
    assert temps["x"] > 1


def test_metric_values_on_known_cases() -> None:
    labels = torch.tensor([0, 1])
    perfect = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert ece(perfect, labels) == pytest.approx(0.0)
    assert brier(perfect, labels) == pytest.approx(0.0)
    assert nll(torch.full((2, 2), 0.5), labels) == pytest.approx(0.6931, abs=1e-4)
    wrong_and_sure = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert ece(wrong_and_sure, labels) == pytest.approx(1.0)
    assert metrics(torch.tensor([[2.0, 0.0], [0.0, 2.0]]), labels)["accuracy"] == 1.0
