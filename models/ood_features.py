"""Feature-space distance at the answering exit: how far the pooled state an exit's head reads
lies from every class's training pages (Lee et al. 2018, Mahalanobis with one shared
covariance per exit).

A photo, a blank page or a sheet of music can still push some class's logit up, so softmax and
energy scores at an exit that answers early stay high; the pooled state of such a page lies
away from where the training pages of every class put it. Each exit keeps, fit on training
pages only: the class means, and the top `rank` principal directions of the within-class
scatter with their variances. A page's distance to a class is its Mahalanobis distance in
those directions plus what is left off them (the residual's squared norm over the mean
residual variance), so a page that moves in directions training never used is far too, while
the stored statistics stay small (rank x d per exit, not d x d). The score is minus the
distance to the nearest class: higher is more in-distribution, like every models.ood score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

STATS = "ood_features.safetensors"  # beside the checkpoint's weights
PARTS = ("means", "basis", "variances", "residual", "scale")
NEGATIVES = "negatives"  # optional part: the mean of out-of-scope training pages


@dataclass
class ExitGaussians:
    means: Tensor  # [C, d], one per class seen in the fit pages
    basis: Tensor  # [d, r], principal directions of the within-class scatter
    variances: Tensor  # [r], the scatter's variance along each
    residual: Tensor  # [] mean variance off the basis
    scale: Tensor  # [] the fit pages' median distance: puts every exit on one scale
    negatives: Tensor | None = None  # [1, d] mean of out-of-scope training pages, if fit

    def distance(self, features: Tensor, means: Tensor | None = None) -> Tensor:
        """[N, d] -> [N]: squared distance to the nearest class mean (or of `means`), in the
        metric of the classes' shared scatter."""
        means = self.means if means is None else means
        diff = features[:, None, :] - means[None]  # [N, C, d]
        along = diff @ self.basis  # [N, C, r]
        inside = (along**2 / self.variances).sum(-1)
        off = (diff**2).sum(-1) - (along**2).sum(-1)
        return (inside + off.clamp_min(0.0) / self.residual).min(-1).values


def fit_exit(features: Tensor, labels: Tensor, rank: int) -> ExitGaussians:
    """Class means and the shared scatter's top `rank` directions, from training pages."""
    x = features.double()
    classes = labels.unique()
    means = torch.stack([x[labels == c].mean(0) for c in classes])
    centred = x - means[torch.searchsorted(classes, labels)]
    cov = centred.T @ centred / max(1, len(x) - len(classes))
    values, vectors = torch.linalg.eigh(cov)  # ascending
    values, vectors = values.flip(0), vectors.flip(1)
    r = min(rank, len(values) - 1)
    floor = values[0].clamp_min(1e-8) * 1e-3  # no direction counts as variance-free
    residual = values[r:].mean().clamp_min(floor)
    fit = ExitGaussians(
        means.float(),
        vectors[:, :r].float().contiguous(),
        values[:r].clamp_min(residual).float(),
        residual.float(),
        torch.tensor(1.0),
    )
    fit.scale = fit.distance(features.float()).median().clamp_min(1e-6)
    return fit


class FeatureStats:
    """Every exit's fit, saved beside a checkpoint's weights."""

    def __init__(self, exits: dict[str, ExitGaussians]) -> None:
        self.exits = exits

    @classmethod
    def fit(
        cls,
        features: dict[str, Tensor],
        labels: Tensor,
        rank: int = 64,
        negatives: dict[str, Tensor] | None = None,
    ) -> FeatureStats:
        """`negatives`: each exit's pooled states of out-of-scope training pages, kept as their
        mean (the classes' scatter is their metric too)."""
        exits = {name: fit_exit(f, labels, rank) for name, f in features.items()}
        for name, f in (negatives or {}).items():
            exits[name].negatives = f.double().mean(0, keepdim=True).float()
        return cls(exits)

    @property
    def has_negatives(self) -> bool:
        return all(g.negatives is not None for g in self.exits.values())

    def distance(self, exit: str, features: Tensor, relative: bool = False) -> Tensor:
        """Squared distances to the nearest class at `exit`; relative: over the fit pages'
        median there, so that distances at different exits compare."""
        if exit not in self.exits:
            raise KeyError(f"no feature statistics for exit {exit}")
        g = self.exits[exit]
        d = g.distance(features.float())
        return d / g.scale if relative else d

    def negative_distance(self, exit: str, features: Tensor) -> Tensor:
        """Squared distances to the out-of-scope training pages' mean at `exit`, over the fit
        pages' median distance there (as distance(relative=True))."""
        g = self.exits[exit]
        if g.negatives is None:
            raise ValueError(f"no out-of-scope statistics at exit {exit}: fit without negatives")
        return g.distance(features.float(), g.negatives) / g.scale

    def save(self, path: Path) -> str:
        """Write the statistics; their SHA-256, for the card."""
        tensors = {
            f"{name}/{part}": getattr(g, part).contiguous()
            for name, g in self.exits.items()
            for part in PARTS
        }
        for name, g in self.exits.items():
            if g.negatives is not None:
                tensors[f"{name}/{NEGATIVES}"] = g.negatives.contiguous()
        save_file(tensors, str(path))
        return hashlib.sha256(path.read_bytes()).hexdigest()

    @classmethod
    def load(cls, path: Path, sha256: str | None = None) -> FeatureStats:
        if sha256 is not None and hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
            raise ValueError(f"{path} does not match the SHA-256 the card records")
        tensors = load_file(str(path))
        names = sorted({key.rsplit("/", 1)[0] for key in tensors})
        exits = {}
        for n in names:
            means, basis, variances, residual, scale = (tensors[f"{n}/{p}"] for p in PARTS)
            negatives = tensors.get(f"{n}/{NEGATIVES}")
            exits[n] = ExitGaussians(means, basis, variances, residual, scale, negatives)
        return cls(exits)
