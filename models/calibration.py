"""Calibration maths: one temperature per exit fitted by NLL, and the metrics that judge it
(expected calibration error, negative log-likelihood, Brier score)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def fit_temperature(logits: Tensor, labels: Tensor, max_iter: int = 100) -> float:
    """The T > 0 minimising NLL(softmax(logits / T), labels), by L-BFGS on log T."""
    log_t = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.1, max_iter=max_iter, line_search_fn="strong_wolfe")
    x, y = logits.detach().float(), labels.detach()

    def closure() -> Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(x / log_t.exp(), y)
        loss.backward()
        return loss

    opt.step(closure)
    return float(log_t.detach().exp().clamp(1e-2, 1e2))


def ece(probs: Tensor, labels: Tensor, bins: int = 15) -> float:
    """Expected calibration error of the top-class confidence, equal-width bins."""
    conf, pred = probs.max(-1)
    right = (pred == labels).float()
    edges = torch.linspace(0, 1, bins + 1)
    total = torch.zeros(())
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            total += inside.float().mean() * (conf[inside].mean() - right[inside].mean()).abs()
    return float(total)


def nll(probs: Tensor, labels: Tensor) -> float:
    return float(-probs.gather(1, labels[:, None]).clamp_min(1e-12).log().mean())


def brier(probs: Tensor, labels: Tensor) -> float:
    onehot = F.one_hot(labels, probs.shape[-1]).float()
    return float(((probs - onehot) ** 2).sum(-1).mean())


def metrics(logits: Tensor, labels: Tensor, temperature: float = 1.0) -> dict[str, float]:
    probs = torch.softmax(logits.float() / temperature, -1)
    return {
        "accuracy": float((probs.argmax(-1) == labels).float().mean()),
        "ece": ece(probs, labels),
        "nll": nll(probs, labels),
        "brier": brier(probs, labels),
    }


def calibrate(
    logits: dict[str, Tensor], labels: Tensor
) -> tuple[dict[str, float], dict[str, dict[str, dict[str, float]]]]:
    """Temperatures per exit and a before/after report per exit."""
    temps, report = {}, {}
    for name, x in logits.items():
        temps[name] = fit_temperature(x, labels)
        report[name] = {"before": metrics(x, labels), "after": metrics(x, labels, temps[name])}
    return temps, report
