"""Exit policies: pure functions of what the exits have said so far, shared by the service,
evaluation and the operating-point search. Each answers "stop here?" for one page at one exit;
the final exit always answers, whatever the policy."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Protocol

from models.plan import Stage


@dataclass(frozen=True)
class StepView:
    """One page at one exit: calibrated class probabilities and the exit's other signals."""

    name: str  # e.g. "vision.3", "mm.2", "emb.text_avg"
    probs: tuple[float, ...]
    stage: Stage  # from the model's plan (models.plan)
    gate_prob: float | None = None
    image_similarity: float | None = None
    text_similarity: float | None = None
    # The exit's raw logits, before its temperature, and the pooled state its head read: what
    # the out-of-distribution scores need (models.ood); no policy reads them.
    logits: tuple[float, ...] | None = field(default=None, compare=False, repr=False)
    features: tuple[float, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def confidence(self) -> float:
        return max(self.probs)

    @property
    def prediction(self) -> int:
        return max(range(len(self.probs)), key=self.probs.__getitem__)


@dataclass(frozen=True)
class Range:
    """The values a policy's number may take; read by the service's strict request schema
    (service.policy_spec), so that the policies here are its one description."""

    ge: float
    le: float


# Thresholds compare with calibrated probabilities (similarities with cosines): a threshold above
# 1 already means "never exits here", so nothing larger is meaningful.
Threshold = Annotated[float, Range(0.0, 2.0)]
Cosine = Annotated[float, Range(-1.0, 2.0)]
Count = Annotated[int, Range(1, 64)]


class Policy(Protocol):
    @property
    def name(self) -> str: ...

    def should_exit(self, step: StepView, history: Sequence[StepView]) -> bool: ...

    def knob(self) -> dict[str, Any]: ...

    def threshold(self, exit: str) -> float | None:
        """The calibrated confidence this exit needs to stop a page (inf: it never does), or
        None when the policy does not decide by confidence."""
        ...


@dataclass(frozen=True)
class GlobalThreshold:
    """Exit once the calibrated top-class probability reaches tau."""

    tau: Threshold
    name: str = "global"

    def should_exit(self, step: StepView, history: Sequence[StepView]) -> bool:
        return step.confidence >= self.tau

    def knob(self) -> dict[str, Any]:
        return {"tau": self.tau}

    def threshold(self, exit: str) -> float | None:
        return self.tau


@dataclass(frozen=True)
class PerExitThresholds:
    """A threshold per exit (exits without one never stop a page)."""

    taus: dict[str, Threshold] = field(default_factory=dict)
    name: str = "per_exit"

    def should_exit(self, step: StepView, history: Sequence[StepView]) -> bool:
        return step.confidence >= self.threshold(step.name)

    def knob(self) -> dict[str, Any]:
        return {"taus": dict(self.taus)}

    def threshold(self, exit: str) -> float:
        return self.taus.get(exit, math.inf)


def heuristic_thresholds(
    accuracy: dict[str, float], ece: dict[str, float], eps: float
) -> dict[str, float]:
    """Hamed et al.'s heuristic: m_i = 1 - acc_i / ECE_i, min-max scaled over exits with margin eps,
    so accurate, well-calibrated exits get low thresholds and poor ones high thresholds."""
    m = {n: 1.0 - accuracy[n] / max(ece[n], 1e-6) for n in accuracy}
    lo, hi = min(m.values()) - eps, max(m.values()) + eps
    return {n: (v - lo) / (hi - lo) for n, v in m.items()}


@dataclass(frozen=True)
class Similarity:
    """MuE: exit once consecutive layers stop changing the tokens (cosine similarity), with its
    own threshold per modality; a multimodal exit needs both streams to have settled."""

    image: Cosine
    text: Cosine
    name: str = "similarity"

    def should_exit(self, step: StepView, history: Sequence[StepView]) -> bool:
        if step.image_similarity is None:
            return False
        if step.stage == "vision":
            return step.image_similarity >= self.image
        return (
            step.text_similarity is not None
            and step.text_similarity >= self.text
            and step.image_similarity >= self.image
        )

    def knob(self) -> dict[str, Any]:
        return {"image": self.image, "text": self.text}

    def threshold(self, exit: str) -> float | None:
        return None  # decides by how the states settle, not by confidence


@dataclass(frozen=True)
class Patience:
    """Exit once the same class has been predicted by k exits running (PABEE)."""

    k: Count
    name: str = "patience"

    def should_exit(self, step: StepView, history: Sequence[StepView]) -> bool:
        recent = [*history, step][-self.k :]
        return len(recent) == self.k and len({s.prediction for s in recent}) == 1

    def knob(self) -> dict[str, Any]:
        return {"k": self.k}

    def threshold(self, exit: str) -> float | None:
        return None  # decides by agreement between exits, not by confidence


@dataclass(frozen=True)
class Gate:
    """Exit when the exit's gate says the shared final classifier is right here (p >= tau)."""

    tau: Threshold
    name: str = "gate"

    def should_exit(self, step: StepView, history: Sequence[StepView]) -> bool:
        return step.gate_prob is not None and step.gate_prob >= self.tau

    def knob(self) -> dict[str, Any]:
        return {"tau": self.tau}

    def threshold(self, exit: str) -> float | None:
        return None  # thresholds the gate's probability, not the class confidence


POLICIES = {
    "global": GlobalThreshold,
    "per_exit": PerExitThresholds,
    "similarity": Similarity,
    "patience": Patience,
    "gate": Gate,
}


def make_policy(name: str, knob: dict[str, Any]) -> Policy:
    if name not in POLICIES:
        raise ValueError(f"unknown policy {name!r}; choose one of {sorted(POLICIES)}")
    policy: Policy = POLICIES[name](**knob)
    return policy


def describe(policy: Policy) -> dict[str, Any]:
    data = asdict(policy)  # type: ignore[call-overload]
    return {"name": data.pop("name"), **data}


def first_exit(policy: Policy, steps: Sequence[StepView]) -> int:
    """Index of the exit that answers for one page: the first the policy accepts, else the last."""
    for i, step in enumerate(steps):
        if policy.should_exit(step, steps[:i]):
            return i
    return len(steps) - 1


def may_exit(policy: Policy, name: str) -> bool:
    """Can this exit ever stop a page under the policy? (Calibrated confidences never exceed 1,
    so a threshold above 1, or none, rules an exit out.) Lets the cascade skip layers that lead
    only to exits that cannot fire."""
    tau = policy.threshold(name)
    return tau is None or tau <= 1.0


def vision_exits_to_run(policy: Policy, names: Sequence[str]) -> list[str]:
    """The vision exits worth running: up to the last one that may fire (none: skip the stream)."""
    last = max((i for i, n in enumerate(names) if may_exit(policy, n)), default=-1)
    return list(names[: last + 1])
