"""What every page request shares (/v1/classify, /v1/extract): the upload read within its
limit, the policy and budget in force, admission under load (service.pressure: as chosen,
shallower, or refused), and the work run in a worker thread with the backlog kept."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request, UploadFile

from service import errors
from service.budget import Choice, resolve
from service.config_store import ConfigStore, RuntimeConfig
from service.deadline import Deadline
from service.engine import Engine
from service.guarantee import epsilon_in_force, guarantee_of
from service.metrics import Metrics
from service.pool import WorkQueue
from service.precedence import InForce, in_force
from service.pressure import Admission, Backlog, admit
from service.settings import Settings
from service.state import state_of

T = TypeVar("T")
Work = Callable[[Admission, Deadline, float], T]  # (how it runs, its deadline, enqueued at)


async def read_upload(file: UploadFile, settings: Settings) -> bytes:
    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise errors.too_large(f"the upload is over the limit of {settings.max_upload_bytes} bytes")
    return data


def choose(
    engine: Engine,
    settings: Settings,
    config: RuntimeConfig,
    policy: str | dict[str, Any] | None,
    budget_ms: int | None,
    full_depth: bool,
) -> tuple[Choice, InForce | None]:
    """Request values first, then the admin-set runtime config, then the settings; with the
    values in force (None: full depth, which has none)."""
    if full_depth:
        full = Choice(None, "full_depth", {}, "request")
        full.guarantee = guarantee_of(None, engine.card, epsilon_in_force(engine.card))
        return full, None
    chosen = in_force(settings, config, policy, budget_ms)
    return resolved(engine, chosen, chosen.budget_ms), chosen


def resolved(engine: Engine, chosen: InForce, budget_ms: int | None) -> Choice:
    epsilon = epsilon_in_force(engine.card, chosen.epsilon)
    return resolve(chosen.spec, chosen.source, budget_ms, engine.card, engine.latency, epsilon)


def admission(
    engine: Engine,
    backlog: Backlog,
    settings: Settings,
    config: RuntimeConfig,
    choice: Choice,
    chosen: InForce | None,
) -> Admission:
    """How the request runs given the work ahead of it (service.pressure): as chosen, or
    shallower under load, or refused (503)."""
    budget_ms = None if chosen is None else chosen.budget_ms
    degrade = settings.degrade if config.degrade is None else config.degrade

    def shallower(seconds: float) -> Choice:
        assert chosen is not None  # full depth is never degraded
        return resolved(engine, chosen, max(1, round(seconds * 1000.0)))

    return admit(
        engine.prices,
        backlog,
        choice,
        None if budget_ms is None else budget_ms / 1000.0,
        shallower,
        degrade=degrade and chosen is not None,
        target_s=settings.degrade_target_s,
    )


async def run_admitted(
    request: Request,
    engine: Engine,
    settings: Settings,
    store: ConfigStore,
    metrics: Metrics,
    queue: WorkQueue,
    policy: str | dict[str, Any] | None,
    budget_ms: int | None,
    full_depth: bool,
    work: Work[T],
) -> tuple[T, Admission, int | None]:
    """Choose the policy, admit the request, and run `work` in a worker thread; returns its
    result, how it was admitted, and the budget in force (None: none)."""
    config = store.current()
    choice, chosen = choose(engine, settings, config, policy, budget_ms, full_depth)
    state = state_of(request.app)
    admitted = admission(engine, state.backlog, settings, config, choice, chosen)
    deadline = Deadline(admitted.deadline_s, request.state.start)
    ticket = state.backlog.admit(admitted.price_s)

    def serve(enqueued: float) -> T:
        state.backlog.start(ticket)
        return work(admitted, deadline, enqueued)

    try:
        out = await queue.run(serve, time.perf_counter())
    finally:
        state.backlog.finish(ticket)
    if admitted.degradation is not None:
        metrics.degraded.labels(rung=admitted.degradation.rung).inc()
    return out, admitted, None if chosen is None else chosen.budget_ms
