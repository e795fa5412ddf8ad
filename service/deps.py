"""Request dependencies: the objects the lifespan put on app.state, as Annotated aliases, and
the admin bearer-token check."""

from __future__ import annotations

import hmac
import re
from typing import Annotated

from fastapi import Depends, Header, Request

from service.config_store import ConfigStore
from service.engine import Engine
from service.errors import not_ready, unauthorized
from service.metrics import Metrics
from service.pool import WorkQueue
from service.settings import Settings

_ACTOR = re.compile(r"[^A-Za-z0-9_.@:-]")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine | None = request.app.state.engine
    if engine is None or not request.app.state.ready:
        raise not_ready(request.app.state.detail)
    return engine


def get_store(request: Request) -> ConfigStore:
    store: ConfigStore = request.app.state.store
    return store


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def get_queue(request: Request) -> WorkQueue:
    queue: WorkQueue = request.app.state.queue
    return queue


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
StoreDep = Annotated[ConfigStore, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
QueueDep = Annotated[WorkQueue, Depends(get_queue)]


def require_admin(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
    x_actor: Annotated[str | None, Header(max_length=64)] = None,
) -> str:
    """The caller's name for the audit log, once its bearer token matches; 401 otherwise,
    and always 401 when no admin token is configured."""
    if settings.admin_token is None:
        raise unauthorized("the admin API is disabled: DOCEXIT_ADMIN_TOKEN is not set")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("send Authorization: Bearer <DOCEXIT_ADMIN_TOKEN>")
    expected = settings.admin_token.get_secret_value().encode()
    if not hmac.compare_digest(token.strip().encode(), expected):
        raise unauthorized("the bearer token is wrong")
    who = _ACTOR.sub("_", x_actor or "admin")
    host = request.client.host if request.client else "unknown"
    return f"{who}@{host}"


AdminDep = Annotated[str, Depends(require_admin)]
