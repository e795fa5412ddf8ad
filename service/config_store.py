"""Runtime config (latency budget, policy, ε) that operators change without a restart.

In-process by default. With DOCEXIT_REDIS_URL, the config lives in Redis: a change is written
with its version in one transaction and published, every replica applies it on the pub/sub
message and also re-reads the key periodically (so a lost message costs at most one resync
period). When Redis is unreachable a replica keeps serving with the last config it knew and says
so through `healthy`/`detail` (metrics and /readyz); a change is refused meanwhile (503), never
kept in one replica only. When Redis comes back, every replica has the latest config within one
resync period; if it came back empty (no persistence), the replicas write back the newest config
they know, so that a replica started afterwards does not start from the defaults.

The audit trail is newest first: in-process for MemoryStore, and for RedisStore the shared list
in Redis (every replica's changes, surviving replica restarts, and Redis restarts when Redis
persists its data)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from service.signing import Signer

audit_log = logging.getLogger("docexit.audit")
log = logging.getLogger("docexit.service.config")

AUDIT_KEEP = 1000

Field_ = Literal["latency_budget_ms", "policy", "epsilon", "degrade"]


class RuntimeConfig(BaseModel):
    version: int = 0
    latency_budget_ms: int | None = Field(default=None, description="None: the settings' default")
    policy: str | dict[str, Any] | None = Field(
        default=None, description="None: the settings' default"
    )
    epsilon: float | None = Field(
        default=None, description="tolerated accuracy loss of early exits; None: the default"
    )
    degrade: bool | None = Field(
        default=None, description="degrade before shedding load; None: the settings' default"
    )
    updated_at: str | None = None
    updated_by: str | None = None


class AuditEntry(BaseModel):
    version: int
    field: str
    old: Any
    new: Any
    actor: str
    at: str
    verified: bool = Field(
        default=True,
        description="False: the entry in Redis carries no valid signature (a replica did not "
        "write it, or it was altered); shown for what it claims, never trusted",
    )


class StoreUnavailableError(RuntimeError):
    """Redis cannot take a change now; the caller answers 503."""


class ConfigStore(Protocol):
    backend: str
    healthy: bool
    detail: str

    def current(self) -> RuntimeConfig: ...

    async def update(self, field: Field_, value: Any, actor: str) -> AuditEntry: ...

    async def audit(self, limit: int = AUDIT_KEEP) -> list[AuditEntry]:
        """The latest `limit` changes, newest first; StoreUnavailableError when the store that
        keeps them cannot be read."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def _changed(
    cur: RuntimeConfig, field: Field_, value: Any, actor: str
) -> tuple[RuntimeConfig, AuditEntry]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    new = cur.model_copy(
        update={field: value, "version": cur.version + 1, "updated_at": now, "updated_by": actor}
    )
    entry = AuditEntry(
        version=new.version, field=field, old=getattr(cur, field), new=value, actor=actor, at=now
    )
    return new, entry


def log_change(entry: AuditEntry) -> None:
    audit_log.info("config change %s", entry.model_dump_json())


class MemoryStore:
    """One process's config; what a single replica without Redis uses."""

    backend = "memory"

    def __init__(self) -> None:
        self._config = RuntimeConfig()
        self._audit: deque[AuditEntry] = deque(maxlen=AUDIT_KEEP)
        self._lock = asyncio.Lock()
        self.healthy, self.detail = True, "in-process config store"

    def current(self) -> RuntimeConfig:
        return self._config

    async def update(self, field: Field_, value: Any, actor: str) -> AuditEntry:
        async with self._lock:
            self._config, entry = _changed(self._config, field, value, actor)
            self._audit.append(entry)
        log_change(entry)
        return entry

    async def audit(self, limit: int = AUDIT_KEEP) -> list[AuditEntry]:
        return list(reversed(self._audit))[:limit]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def make_store(
    redis_url: str | None,
    resync_s: float,
    signer: Signer | None = None,
    on_reject: Callable[[str], None] | None = None,
) -> ConfigStore:
    """The in-process store, or with a Redis URL the shared one, which must sign (Settings
    refuses Redis without a signing key)."""
    if not redis_url:
        return MemoryStore()
    from service.redis_store import RedisStore

    if signer is None:
        raise ValueError("a Redis config store needs a signing key (DOCEXIT_CONFIG_SIGNING_KEY)")
    return RedisStore(redis_url, resync_s, signer, on_reject)
