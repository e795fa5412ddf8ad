"""The cascade's plan: one description of the exits, their order, stages and band, and the live
cascade refuses a model that yields anything else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from PIL import Image

from models.multiexit import ExitStep, MultiExitLayoutLMv3, VisionState
from models.plan import CascadePlan
from models.policies import GlobalThreshold
from models.runtime import Cascade, PlanMismatchError
from tests.models.conftest import tiny_config


def test_the_plan_orders_stages_layers_and_band() -> None:
    plan = CascadePlan.build(6, ("vision_avg", "text_avg", "concat"), (2, 4, 6), (1, 2, 3, 6))
    assert plan.names == [
        *("emb.vision_avg", "vision.2", "vision.4", "vision.6"),
        *("emb.text_avg", "emb.concat", "mm.1", "mm.2", "mm.3", "mm.6"),
    ]
    assert [e.stage for e in plan.exits] == ["vision"] * 4 + ["multimodal"] * 6
    assert plan.layer("vision.4") == 4 and plan.layer("emb.concat") == 0
    assert plan.band_layers == 3
    assert [e.name for e in plan.band] == ["emb.text_avg", "emb.concat", "mm.1", "mm.2", "mm.3"]
    assert plan.final.name == "mm.6" and [e.name for e in plan.layers][-1] == "mm.6"
    assert plan.index("emb.text_avg") == 4  # after every vision exit, though its layer is 0
    with pytest.raises(KeyError, match="vision.3"):
        plan.exit("vision.3")
    with pytest.raises(ValueError, match="final exit"):
        CascadePlan.build(6, (), (), (1, 2))


def test_a_gate_model_plans_no_concat_exit_and_has_no_such_head() -> None:
    config = tiny_config(head="gate")
    assert "emb.concat" not in config.exit_names()
    model = MultiExitLayoutLMv3(config)
    assert "emb_concat" not in model.heads
    out = model(
        torch.zeros(1, 3, 32, 32),
        torch.ones(1, 4, dtype=torch.long),
        torch.zeros(1, 4, 4).long(),
        torch.ones(1, 4, dtype=torch.long),
    )
    assert list(out.steps) == config.exit_names()  # what the model yields is what it plans


def test_the_cascade_refuses_an_exit_its_plan_does_not_expect(model: MultiExitLayoutLMv3) -> None:
    real = model.vision_layers

    def renamed(state: VisionState) -> Iterator[ExitStep]:
        for step in real(state):
            yield ExitStep("vision.9" if step.name == "vision.2" else step.name, step.logits)

    model.vision_layers = renamed  # type: ignore[method-assign]
    with pytest.raises(PlanMismatchError, match="vision.9 where its plan has vision.2"):
        Cascade(model).classify(
            Image.new("L", (64, 80), 200),
            words=(["a"], [(1, 1, 5, 5)]),
            policy=GlobalThreshold(0.999),
        )
