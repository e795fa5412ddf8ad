"""Which policy and latency budget are in force: the request's own, else the admin-set runtime
config's, else the settings'. Written once, for /v1/classify and for the gauges that show the
default (a request that sends neither)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from service.config_store import RuntimeConfig
from service.settings import Settings

Source = Literal["request", "admin", "settings"]


@dataclass(frozen=True)
class InForce:
    spec: str | dict[str, Any]  # a policy spec, as service.budget.resolve takes it
    source: Source  # where the spec came from (the budget is looked up on its own)
    budget_ms: int | None  # None: no deadline
    epsilon: float | None  # the tolerated early-exit loss set by an operator; None: the card's


def in_force(
    settings: Settings,
    config: RuntimeConfig,
    policy: str | dict[str, Any] | None = None,
    budget_ms: int | None = None,
) -> InForce:
    """`policy` and `budget_ms` are the request's (None: it sent none)."""
    budget = budget_ms or config.latency_budget_ms or settings.latency_budget_ms
    epsilon = config.epsilon if config.epsilon is not None else settings.epsilon
    if policy is not None:
        return InForce(policy, "request", budget, epsilon)
    if config.policy is not None:
        return InForce(config.policy, "admin", budget, epsilon)
    return InForce(settings.policy, "settings", budget, epsilon)
