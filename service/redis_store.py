"""The runtime config shared by every replica through Redis: one key, a channel and an audit list
(service.config_store says how replicas stay in step and what they do while Redis is away).

Every value is signed (service.signing). A replica applies a config only if it verifies and is
newer than the one it serves; anything else written at the key (by something that is not a
replica, or an older signed config put back) is refused, counted through `on_reject` once per
value, said in `detail` (/readyz), and the replica goes on serving its last good config. An
admin change made afterwards builds on that good config and signs its own version, so it
reaches every replica as usual. Audit entries that do not verify are shown marked, never
trusted."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from service.config_store import (
    AUDIT_KEEP,
    AuditEntry,
    Field_,
    RuntimeConfig,
    StoreUnavailableError,
    _changed,
    log_change,
)
from service.signing import Signer, UnverifiedError, unsigned_body

log = logging.getLogger("docexit.service.config")

KEY = "docexit:config"
CHANNEL = "docexit:config:changed"
AUDIT = "docexit:config:audit"
RESUBSCRIBE_S = 0.25  # between attempts to subscribe again while Redis is unreachable
# What a value is signed for: a config cannot be replayed as an audit entry or the reverse.
CONFIG_PURPOSE, AUDIT_PURPOSE = KEY, AUDIT


class RedisAuthError(RuntimeError):
    """Redis refused this service's credentials: a start-up error, not a degraded mode."""


def _is_auth_error(exc: BaseException) -> bool:
    from redis.exceptions import AuthenticationError, ResponseError

    text = str(exc)
    return isinstance(exc, AuthenticationError) or (
        isinstance(exc, ResponseError) and text.startswith(("NOAUTH", "WRONGPASS", "NOPERM"))
    )


class RedisStore:
    backend = "redis"

    def __init__(
        self,
        url: str,
        resync_s: float,
        signer: Signer,
        on_reject: Callable[[str], None] | None = None,
    ) -> None:
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
        self._signer = signer
        self._on_reject = on_reject or (lambda reason: None)
        self._refused: str | None = None  # digest of the last value refused (count it once)
        self._config = RuntimeConfig()
        self._tasks: list[asyncio.Task[None]] = []
        self.healthy, self.detail = False, "redis config store not yet synced"

    def current(self) -> RuntimeConfig:
        return self._config

    # -- reading what Redis holds -----------------------------------------------------------
    def _verified(self, raw: str) -> RuntimeConfig:
        """The config a replica signed; UnverifiedError for anything else."""
        body = self._signer.open(CONFIG_PURPOSE, raw)
        try:
            return RuntimeConfig.model_validate_json(body)
        except ValidationError as exc:
            raise UnverifiedError("malformed", "a signed value that is not a config") from exc

    def _refuse(self, raw: str, reason: str, why: str) -> None:
        digest = hashlib.sha256(raw.encode()).hexdigest()
        if digest != self._refused:
            self._refused = digest
            self._on_reject(reason)
            log.warning("refused the config in redis (%s: %s)", reason, why)
        self.detail = (
            f"refused the config in redis ({reason}: {why}); serving version {self._config.version}"
        )

    def _apply(self, raw: str) -> RuntimeConfig | None:
        """The verified config in `raw`, applied when newer than ours (an older one is a late
        message, or a rollback the caller deals with); None when refused."""
        try:
            config = self._verified(raw)
        except UnverifiedError as exc:
            self._refuse(raw, exc.reason, str(exc))
            return None
        if config.version > self._config.version:
            self._config = config
            log.info("config version %d applied", config.version)
            self._refused = None  # a good config is in force again: nothing refused stands
            self._up()
        return config

    # -- health -------------------------------------------------------------------------------
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

    # -- keeping in step ------------------------------------------------------------------------
    async def resync(self) -> None:
        try:
            raw = await self._redis.get(KEY)
            if raw is None:
                if self._config.version > 0:  # Redis lost our config (restarted without data)
                    await self._restore()
            else:
                config = self._apply(raw)
                if config is None:  # refused: keep serving ours, and say so (detail)
                    self.healthy = True
                    return
                if config.version < self._config.version:  # an older signed config put back
                    self._refuse(raw, "version", f"version {config.version} is older than ours")
                    await self._restore()
            self._refused = None
            self._up()
        except Exception as exc:
            self._down(exc)

    async def _restore(self) -> None:
        """Redis holds no config, or an older one than this replica (it restarted without its
        data): write ours back, unless a newer one landed meanwhile, so that every replica, and
        any started later, converge on the newest config rather than on the defaults."""
        from redis.exceptions import WatchError

        async with self._redis.pipeline(transaction=True) as pipe:
            await pipe.watch(KEY)
            raw = await pipe.get(KEY)
            with contextlib.suppress(UnverifiedError):
                if raw is not None and self._verified(raw).version >= self._config.version:
                    return
            sealed = self._signer.seal(CONFIG_PURPOSE, self._config.model_dump_json())
            pipe.multi()
            pipe.set(KEY, sealed)
            pipe.publish(CHANNEL, sealed)
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

    # -- changes and their audit ----------------------------------------------------------------
    async def update(self, field: Field_, value: Any, actor: str) -> AuditEntry:
        from redis.exceptions import WatchError

        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(KEY)
                        raw = await pipe.get(KEY)
                        base = self._config  # what Redis holds counts only if a replica signed it
                        with contextlib.suppress(UnverifiedError):
                            if raw is not None and (stored := self._verified(raw)).version >= (
                                base.version
                            ):
                                base = stored
                        new, entry = _changed(base, field, value, actor)
                        sealed = self._signer.seal(CONFIG_PURPOSE, new.model_dump_json())
                        pipe.multi()
                        pipe.set(KEY, sealed)
                        pipe.lpush(AUDIT, self._signer.seal(AUDIT_PURPOSE, entry.model_dump_json()))
                        pipe.ltrim(AUDIT, 0, AUDIT_KEEP - 1)
                        pipe.publish(CHANNEL, sealed)
                        await pipe.execute()
                        break
                    except WatchError:
                        continue  # another replica changed it meanwhile: redo on its version
        except Exception as exc:
            self._down(exc)
            raise StoreUnavailableError(self.detail) from exc
        self._apply(sealed)
        self._refused = None
        self._up()
        log_change(entry)
        return entry

    async def audit(self, limit: int = AUDIT_KEEP) -> list[AuditEntry]:
        try:
            raw = await self._redis.lrange(AUDIT, 0, limit - 1)  # LPUSHed: newest first
        except Exception as exc:
            self._down(exc)
            raise StoreUnavailableError(self.detail) from exc
        return [e for e in (self._audit_entry(item) for item in raw) if e is not None]

    def _audit_entry(self, item: str) -> AuditEntry | None:
        """A signed entry; one that does not verify, marked, for what it claims; None for what
        is not an entry at all (skipped, so the trail stays readable)."""
        try:
            return AuditEntry.model_validate_json(self._signer.open(AUDIT_PURPOSE, item))
        except (UnverifiedError, ValidationError):
            pass
        try:
            claimed = AuditEntry.model_validate_json(unsigned_body(item) or "")
        except ValidationError:
            log.warning("skipping an unreadable entry in %s", AUDIT)
            return None
        return claimed.model_copy(update={"verified": False})

    # -- life -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Fails (RedisAuthError) when Redis refuses our credentials: a URL without the password
        must stop the service now, not degrade every replica silently. Redis merely down is
        served through, as before."""
        try:
            await self._redis.ping()
        except Exception as exc:
            if _is_auth_error(exc):
                raise RedisAuthError(
                    f"Redis refused the credentials in DOCEXIT_REDIS_URL ({exc}); give the ACL "
                    "user and password: redis://USER:PASSWORD@HOST:PORT/DB (rediss:// for TLS)"
                ) from exc
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
