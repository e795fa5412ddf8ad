"""Request dependencies: the objects the lifespan put on app.state, as Annotated aliases, and
the admin bearer-token check with its per-client lockout."""

from __future__ import annotations

import hmac
import logging
import math
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.config_store import ConfigStore
from service.engine import Engine
from service.errors import locked_out, not_ready, unauthorized
from service.metrics import Metrics
from service.pool import WorkQueue
from service.settings import Settings

log = logging.getLogger("docexit.service.admin")
_ACTOR = re.compile(r"[^A-Za-z0-9_.@:-]")
ACTOR_MAX = 64


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


class AdminGuard:
    """Failed admin authentications per client address. The `max_failures`-th failure within
    `window_s` locks that address out for `window_s`: every admin request from it then answers
    429, whatever token it carries, so that a right guess during the lockout looks like a wrong
    one, and an online guesser gets `max_failures` tries per window. Requests during a lockout
    neither count nor extend it. A success forgets the address's earlier failures.

    Per process: with R replicas behind a balancer a guesser gets up to R times as many tries
    (still a handful a minute against a token of 16+ characters). Only called from the event
    loop, so it needs no lock; at most `max_clients` addresses are remembered (the oldest go)
    so that a spray from many addresses cannot grow it without bound."""

    def __init__(
        self,
        max_failures: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.max_failures, self.window_s = max_failures, window_s
        self._clock, self._max_clients = clock, max_clients
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked: OrderedDict[str, float] = OrderedDict()  # address -> locked until

    def locked_for(self, client: str) -> float:
        """Seconds the client's lockout has left; 0 when it may try."""
        until = self._locked.get(client)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left > 0:
            return left
        del self._locked[client]
        return 0.0

    def failed(self, client: str) -> bool:
        """Count a failure; True when it starts a lockout."""
        now = self._clock()
        times = self._failures.setdefault(client, deque())
        self._failures.move_to_end(client)
        times.append(now)
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) < self.max_failures:
            self._trim(self._failures)
            return False
        del self._failures[client]
        self._locked[client] = now + self.window_s
        self._trim(self._locked)
        return True

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)

    def _trim(self, table: OrderedDict[str, deque[float]] | OrderedDict[str, float]) -> None:
        while len(table) > self._max_clients:
            table.popitem(last=False)


def admin_guard(request: Request) -> AdminGuard:
    guard: AdminGuard = request.app.state.admin_guard
    return guard


async def authenticate(request: Request) -> str:
    """The caller's name for the audit log, once its bearer token matches: 401 otherwise (always
    when no admin token is configured), 429 while its address is locked out. The admin routes
    call it before FastAPI reads the body (so a caller without the token gets no validation
    answers), the AdminDep dependency again (answered from the request's state).

    Neither token, the expected or the offered one, goes into a log line, a problem detail or
    the actor name."""
    known: str | None = getattr(request.state, "admin_actor", None)
    if known is not None:
        return known
    settings = get_settings(request)
    if settings.admin_token is None:
        raise unauthorized("the admin API is disabled: DOCEXIT_ADMIN_TOKEN is not set")
    client = request.client.host if request.client else "unknown"
    guard = admin_guard(request)
    left = guard.locked_for(client)
    if left > 0:
        raise locked_out(
            "too many failed admin authentications from this address; retry later",
            math.ceil(left),
        )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = settings.admin_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not token.strip():
        detail = "send Authorization: Bearer <DOCEXIT_ADMIN_TOKEN>"
    elif not hmac.compare_digest(token.strip().encode(), expected):
        detail = "the bearer token is wrong"
    else:
        guard.succeeded(client)
        who = _ACTOR.sub("_", request.headers.get("x-actor") or "admin")[:ACTOR_MAX]
        request.state.admin_actor = f"{who}@{client}"
        return str(request.state.admin_actor)
    if guard.failed(client):
        log.warning(
            "admin API locked for %s for %.0f s after %d failed authentications",
            client,
            guard.window_s,
            guard.max_failures,
        )
    else:
        log.info("failed admin authentication from %s: %s", client, detail)
    raise unauthorized(detail)


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
