"""Request dependencies: the objects of the app's ServiceState (service.state), as Annotated
aliases, and the admin caller (service.admin_guard checks its token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.admin_guard import ACTOR_MAX, authenticate
from service.config_store import ConfigStore
from service.engine import Engine
from service.errors import not_ready
from service.metrics import Metrics
from service.pool import WorkQueue
from service.settings import Settings
from service.state import state_of


def get_settings(request: Request) -> Settings:
    return state_of(request.app).settings


def get_engine(request: Request) -> Engine:
    state = state_of(request.app)
    if state.engine is None or not state.ready:
        raise not_ready(state.detail)
    return state.engine


def get_store(request: Request) -> ConfigStore:
    return state_of(request.app).store


def get_metrics(request: Request) -> Metrics:
    return state_of(request.app).metrics


def get_queue(request: Request) -> WorkQueue:
    return state_of(request.app).queue


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
StoreDep = Annotated[ConfigStore, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
QueueDep = Annotated[WorkQueue, Depends(get_queue)]


# Declared for the OpenAPI document (the docs' Authorize button); authenticate() reads the
# header itself, so a missing or non-bearer header reaches it as a failure to count.
_bearer = HTTPBearer(auto_error=False, description="DOCEXIT_ADMIN_TOKEN")


async def require_admin(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    _x_actor: Annotated[
        str | None,
        Header(alias="X-Actor", max_length=ACTOR_MAX, description="who makes the change (audit)"),
    ] = None,
) -> str:
    return await authenticate(request)


AdminDep = Annotated[str, Depends(require_admin)]
