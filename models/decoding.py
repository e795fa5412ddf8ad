"""Greedy generation with step-level exits (models.decoder.Stepper) and the policies that decide
them: DEED's per-step confidence threshold, MuE's threshold decaying over the steps, and full
depth. A policy gives each (layer, step) a threshold on the exit's calibrated confidence; +inf
means that exit never emits."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor

from models.decoder import MultiExitDecoder, Step, Stepper, Thresholds


class DecoderPolicy(Protocol):
    @property
    def name(self) -> str: ...

    def threshold(self, layer: int, step: int) -> float: ...


@dataclass(frozen=True)
class FullDepth:
    """Every step runs every layer: the reference early exits are measured against."""

    name: str = "full_depth"

    def threshold(self, layer: int, step: int) -> float:
        return math.inf


@dataclass(frozen=True)
class StepConfidence:
    """DEED: a step leaves at the first layer whose exit is at least tau confident; `taus`
    overrides tau per layer (1-based)."""

    tau: float
    taus: dict[int, float] = field(default_factory=dict)
    name: str = "step_confidence"

    def threshold(self, layer: int, step: int) -> float:
        return self.taus.get(layer, self.tau)


@dataclass(frozen=True)
class MueDecay:
    """MuE's decoder exits: none in the first third of max_length steps (the answer's start
    decides much of the rest), then tau_t = 0.9 thr + 0.1 exp(-(t + 1) / (max_length + 1)),
    which eases towards 0.9 thr as the sequence goes on."""

    thr: float
    max_length: int
    name: str = "mue_decay"

    def threshold(self, layer: int, step: int) -> float:
        if step < self.max_length // 3:
            return math.inf
        return 0.9 * self.thr + 0.1 * math.exp(-(step + 1) / (self.max_length + 1))


@dataclass
class Generation:
    tokens: list[int]  # without BOS, up to and without EOS
    steps: list[Step]  # every step, EOS included
    seconds: float = 0.0
    stopped: bool = False  # the deadline cut it before EOS

    @property
    def mean_layer(self) -> float:
        return sum(s.layer for s in self.steps) / len(self.steps) if self.steps else 0.0

    @property
    def layers_run(self) -> int:
        return sum(s.layers_run for s in self.steps)


def exit_test(policy: DecoderPolicy, step: int) -> Thresholds:
    """The thresholds `policy` sets step `step`'s exits."""
    return lambda layer: policy.threshold(layer, step)


@torch.inference_mode()
def generate(
    decoder: MultiExitDecoder,
    states: Tensor,
    mask: Tensor,
    copy_ids: Tensor,
    policy: DecoderPolicy,
    temperatures: list[float] | None = None,
    max_length: int | None = None,
    can_continue: Callable[[], bool] | None = None,
) -> Generation:
    """Greedy decoding of one sequence. states: [1, S, H] encoder tokens, mask: [1, S],
    copy_ids: [1, S] (MultiExitDecoder.read). can_continue is asked before every step after
    the first (a deadline); when it says no, what was generated so far is returned, marked
    stopped. The time counts reading the page as well as the steps."""
    c = decoder.config
    limit = min(max_length or c.max_length, c.max_length) - 1  # BOS takes a position
    temps = temperatures or [1.0] * c.num_layers
    out = Generation([], [])
    start = time.perf_counter()
    stepper = Stepper(decoder, decoder.read(states, mask, copy_ids))
    token, source = c.bos_id, -1
    for t in range(limit):
        if t and can_continue is not None and not can_continue():
            out.stopped = True
            break
        step = stepper.step(token, source, exit_test(policy, t), temps)
        out.steps.append(step)
        if step.token == c.eos_id and step.source < 0:
            break
        out.tokens.append(step.token)
        token, source = step.token, step.source
    out.seconds = time.perf_counter() - start
    return out
