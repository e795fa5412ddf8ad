"""The admin API's bearer-token check, with its per-client lockout after repeated failures."""

from __future__ import annotations

import hmac
import logging
import math
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi import Request

from service.errors import locked_out, unauthorized
from service.state import state_of

log = logging.getLogger("docexit.service.admin")
_ACTOR = re.compile(r"[^A-Za-z0-9_.@:-]")
ACTOR_MAX = 64


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
    state = state_of(request.app)
    settings = state.settings
    if settings.admin_token is None:
        raise unauthorized("the admin API is disabled: DOCEXIT_ADMIN_TOKEN is not set")
    client = request.client.host if request.client else "unknown"
    guard = state.admin_guard
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
