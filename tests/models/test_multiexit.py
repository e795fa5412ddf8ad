"""The multi-exit model: exits, shapes, and that stopping early really skips the later layers."""

from __future__ import annotations

import pytest
import torch

from models.multiexit import MultiExitLayoutLMv3
from tests.models.conftest import tiny_batch, tiny_config


def test_every_exit_gives_class_logits(model: MultiExitLayoutLMv3) -> None:
    out = model(**tiny_batch(b=2))
    names = model.config.exit_names()
    assert list(out.steps) == names
    assert names == [
        "emb.vision_avg",
        "vision.1",
        "vision.2",
        "vision.3",
        "emb.text_avg",
        "emb.concat",
        "mm.1",
        "mm.2",
        "mm.3",
    ]
    for step in out.steps.values():
        assert step.logits.shape == (2, 5)
        assert step.gate is None


def test_similarity_is_per_sample_and_absent_on_first_layers(model: MultiExitLayoutLMv3) -> None:
    out = model(**tiny_batch(b=3))
    assert out.steps["vision.1"].image_similarity is None
    assert out.steps["mm.1"].text_similarity is None
    for name in ("vision.2", "vision.3", "mm.2", "mm.3"):
        sim = out.steps[name].image_similarity
        assert sim is not None and sim.shape == (3,) and bool(((sim >= -1) & (sim <= 1.0001)).all())
    assert out.steps["mm.3"].text_similarity.shape == (3,)  # type: ignore[union-attr]


def test_gate_checkpoints_share_the_final_classifier() -> None:
    model = MultiExitLayoutLMv3(tiny_config(head="gate")).eval()
    out = model(**tiny_batch())
    assert "emb.concat" not in out.steps and "classifier" in model.heads
    for step in out.steps.values():
        assert step.logits.shape == (2, 5) and step.gate is not None and step.gate.shape == (2,)


@pytest.mark.parametrize("head", ["ramp", "gate"])
def test_grid_vision_exits_see_where_the_ink_is(head: str) -> None:
    model = MultiExitLayoutLMv3(tiny_config(vision_readout="grid", grid_dim=3, head=head)).eval()
    assert set(model.readouts) == {"vision_1", "vision_2", "vision_3"}
    out = model(**tiny_batch())
    for name in ("vision.1", "vision.2", "vision.3"):
        assert out.steps[name].logits.shape == (2, 5)
        assert (out.steps[name].gate is not None) == (head == "gate")
    # The same patches in another order: a mean readout could not tell, the grid does.
    tokens = model.embed_image(tiny_batch()["pixel_values"])
    swapped = tokens[:, [0, 2, 1, 4, 3]]
    a = next(iter(model.vision_steps(tokens))).logits
    grid = [s for s in model.vision_steps(tokens) if s.name == "vision.1"][0].logits
    moved = [s for s in model.vision_steps(swapped) if s.name == "vision.1"][0].logits
    assert a.shape == (2, 5) and not torch.allclose(grid, moved, atol=1e-5)
    with pytest.raises(ValueError, match="vision_readout"):
        tiny_config(vision_readout="max")


def test_exit_placement_is_configurable() -> None:
    model = MultiExitLayoutLMv3(tiny_config(vision_exits=(2,), mm_exits=(1,), embedding_exits=()))
    assert model.config.exit_names() == ["vision.2", "mm.1", "mm.3"]  # the final exit stays
    with pytest.raises(ValueError, match="outside the model"):
        tiny_config(vision_exits=(4,))
    with pytest.raises(ValueError, match="head must be"):
        tiny_config(head="nope")


def test_streaming_matches_forward_and_stops_computing(model: MultiExitLayoutLMv3) -> None:
    batch = tiny_batch(b=1)
    full = model(**batch)
    calls: list[int] = []
    for i, layer in enumerate(model.backbone.encoder.layer):
        layer.register_forward_hook(lambda *_, i=i: calls.append(i))
    image = model.embed_image(batch["pixel_values"])
    vision = model.vision_steps(image)
    first, second = next(vision), next(vision)
    assert (first.name, second.name) == ("emb.vision_avg", "vision.1")
    assert calls == [0]  # one layer ran, no more
    torch.testing.assert_close(second.logits, full.steps["vision.1"].logits)
    state, emb_steps = model.start_multimodal(
        image, batch["input_ids"], batch["bbox"], batch["attention_mask"]
    )
    torch.testing.assert_close(emb_steps[0].logits, full.steps["emb.text_avg"].logits)
    mm = model.multimodal_steps(state)
    step = next(mm)
    assert step.name == "mm.1" and calls == [0, 0] and state.layer == 1
    torch.testing.assert_close(step.logits, full.steps["mm.1"].logits)
    rest = list(mm)
    torch.testing.assert_close(rest[-1].logits, full.steps["mm.3"].logits)


def test_padding_does_not_change_predictions(model: MultiExitLayoutLMv3) -> None:
    batch = tiny_batch(b=1, t=5)
    padded = {k: v.clone() for k, v in batch.items()}
    padded["input_ids"] = torch.cat([batch["input_ids"], torch.zeros(1, 4, dtype=torch.long)], 1)
    padded["bbox"] = torch.cat([batch["bbox"], torch.zeros(1, 4, 4, dtype=torch.long)], 1)
    padded["attention_mask"] = torch.cat(
        [batch["attention_mask"], torch.zeros(1, 4, dtype=torch.long)], 1
    )
    a, b = model(**batch), model(**padded)
    for name in ("emb.text_avg", "mm.1", "mm.3"):
        torch.testing.assert_close(a.steps[name].logits, b.steps[name].logits, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("relative", [False, True])
def test_layer_by_layer_equals_transformers_forward(tmp_path, relative: bool) -> None:  # type: ignore[no-untyped-def]
    """Our streams call the backbone's own modules: the final multimodal state must be exactly
    LayoutLMv3Model's output, also for a Hugging Face folder with relative attention biases
    (layoutlmv3-base's layout), loaded through backbone_path."""
    from transformers import LayoutLMv3Model

    config = tiny_config(relative_attention=relative)
    torch.manual_seed(0)
    reference = LayoutLMv3Model(config.backbone_config()).eval()
    reference.save_pretrained(tmp_path)
    model = MultiExitLayoutLMv3(tiny_config(backbone_path=str(tmp_path))).eval()
    assert model.config.relative_attention == relative
    batch = tiny_batch(b=2)
    batch["attention_mask"][1, -2:] = 0  # padding in the second page
    with torch.no_grad():
        expected = reference(
            input_ids=batch["input_ids"],
            bbox=batch["bbox"],
            attention_mask=batch["attention_mask"],
            pixel_values=batch["pixel_values"],
        ).last_hidden_state
        image = model.embed_image(batch["pixel_values"])
        state, _ = model.start_multimodal(
            image, batch["input_ids"], batch["bbox"], batch["attention_mask"]
        )
        list(model.multimodal_steps(state))
    torch.testing.assert_close(state.hidden, expected, atol=1e-5, rtol=1e-4)
