"""The joint multi-exit loss of Hamed et al.: the final classifier weighs 1 - gamma and the other
exits share gamma, equally ("weighted"), by inverse cost ("cost") or damped where the exits are
most uncertain ("entropyreg"). Gate checkpoints add a binary loss per gate."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from models.multiexit import MultiExitOutput

SCHEMES = ("weighted", "cost", "entropyreg")


def exit_weights(
    names: list[str],
    final: str,
    gamma: float,
    scheme: str,
    params_up_to: dict[str, float] | None = None,
) -> dict[str, float]:
    """Loss weight per exit; they sum to 1. `params_up_to` (for "cost"): parameters on each exit's
    path, so that cheap exits, which matter most for speed, weigh most."""
    if scheme not in SCHEMES:
        raise ValueError(f"loss scheme must be one of {SCHEMES}, not {scheme!r}")
    others = [n for n in names if n != final]
    if not others:
        return {final: 1.0}
    if scheme == "cost":
        assert params_up_to is not None, "the cost scheme needs params_up_to"
        inv = {n: 1.0 / params_up_to[n] for n in others}
        total = sum(inv.values())
        weights = {n: gamma * v / total for n, v in inv.items()}
    else:
        weights = {n: gamma / len(others) for n in others}
    weights[final] = 1.0 - gamma
    return weights


def entropy_damping(logits: dict[str, Tensor]) -> dict[str, float]:
    """Per-exit factor 1 - min(1, N * softmax(mean entropies)_i): exits far less certain than the
    rest stop pulling on the shared layers (the paper's entropy regularisation)."""
    names = list(logits)
    with torch.no_grad():
        ent = torch.stack(
            [
                -(F.log_softmax(logits[n], -1).exp() * F.log_softmax(logits[n], -1)).sum(-1).mean()
                for n in names
            ]
        )
        share = torch.softmax(ent, 0) * len(names)
    return {n: float(1.0 - min(1.0, share[i].item())) for i, n in enumerate(names)}


def joint_loss(
    out: MultiExitOutput, labels: Tensor, weights: dict[str, float], scheme: str = "weighted"
) -> tuple[Tensor, dict[str, float]]:
    """Weighted sum of per-exit cross-entropies (+ gate BCE); returns the loss and its parts."""
    logits = out.logits
    damping = entropy_damping(logits) if scheme == "entropyreg" else {}
    total = labels.new_zeros((), dtype=torch.float32)
    parts: dict[str, float] = {}
    for name, step in out.steps.items():
        ce = F.cross_entropy(step.logits, labels)
        w = weights[name] * damping.get(name, 1.0)
        total = total + w * ce
        parts[name] = float(ce.detach())
        if step.gate is not None:
            # The gate learns whether the shared classifier is right on this exit's state.
            right = (step.logits.detach().argmax(-1) == labels).float()
            bce = F.binary_cross_entropy_with_logits(step.gate, right)
            total = total + weights[name] * bce
            parts[f"{name}.gate"] = float(bce.detach())
    return total, parts
