"""Runtime config (latency budget, policy) that operators change without a restart.

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
import contextlib
import logging
from collections import deque
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

audit_log = logging.getLogger("docexit.audit")
log = logging.getLogger("docexit.service.config")

KEY = "docexit:config"
CHANNEL = "docexit:config:changed"
AUDIT = "docexit:config:audit"
AUDIT_KEEP = 1000
RESUBSCRIBE_S = 0.25  # between attempts to subscribe again while Redis is unreachable

Field_ = Literal["latency_budget_ms", "policy"]


class RuntimeConfig(BaseModel):
    version: int = 0
    latency_budget_ms: int | None = Field(default=None, description="None: the settings' default")
    policy: str | dict[str, Any] | None = Field(
        default=None, description="None: the settings' default"
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


def _log(entry: AuditEntry) -> None:
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
        _log(entry)
        return entry

    async def audit(self, limit: int = AUDIT_KEEP) -> list[AuditEntry]:
        return list(reversed(self._audit))[:limit]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class StoreUnavailableError(RuntimeError):
    """Redis cannot take a change now; the caller answers 503."""


class RedisStore:
    """Config shared by every replica through one Redis key, a channel and an audit list."""

    backend = "redis"

    def __init__(self, url: str, resync_s: float = 0.5) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        self._redis: Any = aioredis.Redis.from_url(
            url,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            decode_responses=True,
            # One immediate retry on a broken connection: after a Redis restart every pooled
            # connection is dead, and the first command on each must not fail an admin change.
            # No more, and none on timeouts: the loops below retry on their own schedule, and a
            # PUT while Redis is down must get its 503 at once, not after redis-py's default
            # ten backed-off attempts.
            retry=Retry(NoBackoff(), 1, (RedisConnectionError,)),
        )
        self.resync_s = resync_s
        self._config = RuntimeConfig()
        self._tasks: list[asyncio.Task[None]] = []
        self.healthy, self.detail = False, "redis config store not yet synced"

    def current(self) -> RuntimeConfig:
        return self._config

    async def audit(self, limit: int = AUDIT_KEEP) -> list[AuditEntry]:
        try:
            raw = await self._redis.lrange(AUDIT, 0, limit - 1)  # LPUSHed: newest first
        except Exception as exc:
            self._down(exc)
            raise StoreUnavailableError(self.detail) from exc
        entries = []
        for item in raw:
            try:
                entries.append(AuditEntry.model_validate_json(item))
            except ValueError:  # written by something else: skip it, keep the trail readable
                log.warning("skipping an unreadable entry in %s", AUDIT)
        return entries

    def _apply(self, raw: str | None) -> int:
        """Newer versions only: a late message or resync never rolls a change back. Returns the
        version `raw` holds (0: none, a flushed or fresh Redis, whose config we keep)."""
        if raw is None:
            return 0
        config = RuntimeConfig.model_validate_json(raw)
        if config.version > self._config.version:
            self._config = config
            log.info("config version %d applied", config.version)
        return config.version

    def _down(self, exc: BaseException) -> None:
        if self.healthy:
            log.warning(
                "redis config store unreachable, serving config v%d: %s", self._config.version, exc
            )
        self.healthy = False
        self.detail = (
            f"redis unreachable ({type(exc).__name__}); serving last known config "
            f"version {self._config.version}"
        )

    def _up(self) -> None:
        if not self.healthy:
            log.info("redis config store reachable")
        self.healthy, self.detail = True, "redis config store in sync"

    async def resync(self) -> None:
        try:
            if self._apply(await self._redis.get(KEY)) < self._config.version:
                await self._restore()
            self._up()
        except Exception as exc:
            self._down(exc)

    async def _restore(self) -> None:
        """Redis holds an older config than this replica (it restarted without its data): write
        ours back, unless a newer one landed meanwhile, so that every replica, and any started
        later, converge on the newest config rather than on the defaults."""
        from redis.exceptions import WatchError

        async with self._redis.pipeline(transaction=True) as pipe:
            await pipe.watch(KEY)
            raw = await pipe.get(KEY)
            if raw is not None and RuntimeConfig.model_validate_json(raw).version >= (
                self._config.version
            ):
                return
            pipe.multi()
            pipe.set(KEY, self._config.model_dump_json())
            pipe.publish(CHANNEL, self._config.model_dump_json())
            with contextlib.suppress(WatchError):  # someone wrote first: the next resync reads it
                await pipe.execute()
                log.warning("redis had lost config version %d: restored", self._config.version)

    async def _resync_loop(self) -> None:
        while True:
            await self.resync()
            await asyncio.sleep(self.resync_s)

    async def _listen_loop(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                # Subscribed, then read: a change made while this replica was not listening
                # (Redis down, or restarting) is in the key, and any later one comes as a
                # message; so a Redis that returns is caught up with at once, not at the next
                # resync, which may be DOCEXIT_REDIS_RESYNC_S away.
                await self.resync()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        self._apply(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._down(exc)
                await asyncio.sleep(min(self.resync_s, RESUBSCRIBE_S))
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def update(self, field: Field_, value: Any, actor: str) -> AuditEntry:
        from redis.exceptions import WatchError

        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(KEY)
                        raw = await pipe.get(KEY)
                        base = self._config
                        if raw is not None:
                            stored = RuntimeConfig.model_validate_json(raw)
                            base = stored if stored.version >= base.version else base
                        new, entry = _changed(base, field, value, actor)
                        pipe.multi()
                        pipe.set(KEY, new.model_dump_json())
                        pipe.lpush(AUDIT, entry.model_dump_json())
                        pipe.ltrim(AUDIT, 0, AUDIT_KEEP - 1)
                        pipe.publish(CHANNEL, new.model_dump_json())
                        await pipe.execute()
                        break
                    except WatchError:
                        continue  # another replica changed it meanwhile: redo on its version
        except Exception as exc:
            self._down(exc)
            raise StoreUnavailableError(self.detail) from exc
        self._apply(new.model_dump_json())
        self._up()
        _log(entry)
        return entry

    async def start(self) -> None:
        await self.resync()
        self._tasks = [
            asyncio.create_task(self._resync_loop(), name="docexit-config-resync"),
            asyncio.create_task(self._listen_loop(), name="docexit-config-listen"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._redis.aclose()


def make_store(redis_url: str | None, resync_s: float) -> ConfigStore:
    if redis_url:
        return RedisStore(redis_url, resync_s)
    return MemoryStore()
