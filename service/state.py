"""The application's state, typed: one ServiceState on app.state.service, built by create_app,
filled in by the lifespan (the engine once loaded, readiness, draining) and read by the request
dependencies (service.deps), the routes and the drain."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.applications import Starlette

if TYPE_CHECKING:  # annotations only: these modules read the state at run time
    from models.card import Card
    from service.admin_guard import AdminGuard
    from service.config_store import ConfigStore
    from service.engine import Engine
    from service.metrics import Metrics
    from service.pool import WorkQueue
    from service.pressure import Backlog
    from service.settings import Settings
    from service.shadow import ShadowLane


def _nothing() -> None:
    return None


@dataclass
class ServiceState:
    settings: Settings
    card: Card  # the checkpoint's, read before the model loads
    metrics: Metrics
    store: ConfigStore
    queue: WorkQueue
    admin_guard: AdminGuard
    shadow: ShadowLane  # re-runs a share of answered requests never exiting early
    backlog: Backlog  # the priced work admitted and not finished (service.pressure)
    # Mirrors the runtime config in force into the gauges (app._publisher).
    publish_config: Callable[[], None] = field(default=_nothing)
    engine: Engine | None = None  # None until the lifespan has loaded and warmed the model
    ready: bool = False
    detail: str = "starting"  # what /readyz says
    draining: bool = False  # SIGTERM received: /readyz fails while requests are still served


def state_of(app: Starlette) -> ServiceState:
    state: ServiceState = app.state.service
    return state
