"""The OCR cache: an engine's words for a page kept in Redis, keyed by the engine, its version
and the sha256 of the page's pixels, so a page seen again (by any replica) skips OCR.

Entries are signed for their key (service.signing): something that can write to Redis cannot
make a page read as other words, nor move one page's entry onto another page. An entry that does
not verify is counted (`on_reject`), recomputed and overwritten, never used."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PIL import Image

from models.ocr import OcrEngine
from models.runtime import Words
from service.signing import Signer, UnverifiedError

log = logging.getLogger("docexit.service.ocr")
CACHE_BACKOFF_S = 5.0  # a down cache must not add its timeouts to every request


def image_sha256(image: Image.Image) -> str:
    """Of the decoded pixels and size, so the same page from PNG or PDF shares a cache entry."""
    h = hashlib.sha256(f"{image.mode}:{image.width}x{image.height}:".encode())
    h.update(image.tobytes())
    return h.hexdigest()


def _cached_words(raw: bytes) -> Words | None:
    """A cache entry back to (texts, boxes); None when it is not what this class writes (another
    version's format, a truncated value): the page is OCRed again and the entry overwritten."""
    try:
        data = json.loads(raw)
        texts, boxes = data["texts"], data["boxes"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (
        isinstance(texts, list)
        and isinstance(boxes, list)
        and len(texts) == len(boxes)
        and all(isinstance(t, str) for t in texts)
        and all(
            isinstance(b, list)
            and len(b) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in b)
            for b in boxes
        )
    ):
        return None
    return texts, boxes


class CachedOcr:
    """An engine plus an optional Redis cache; called from worker threads, so it uses redis-py's
    blocking client with short timeouts. The cache is optional: a miss, an unreadable entry or an
    unreachable Redis means OCR is computed, never that the request fails. After a failure the
    cache is left alone for CACHE_BACKOFF_S, so a Redis outage costs one short timeout per
    backoff period rather than one per request, and is used again once Redis is back."""

    def __init__(
        self,
        engine: OcrEngine,
        redis_url: str | None,
        ttl_s: int,
        signer: Signer | None = None,
    ) -> None:
        self.engine, self.ttl, self._signer = engine, ttl_s, signer
        self.on_reject: Callable[[], None] = lambda: None  # the app counts refused entries
        # An engine's release and settings change its words: entries of another never match.
        self._prefix = f"docexit:ocr:{engine.name}:{getattr(engine, 'version', 'unversioned')}"
        self._skip_until = 0.0  # after a cache failure, leave Redis alone for a while
        self._down = False  # for logging the outage once, and its end
        self._redis: Any = None
        # Per worker thread: did this thread's last call come from the cache? A hit takes a
        # millisecond, and must not teach the latency model that OCR is cheap.
        self._local = threading.local()
        if redis_url and ttl_s:
            if signer is None:
                raise ValueError("an OCR cache in Redis needs a signing key")
            import redis
            from redis.backoff import NoBackoff
            from redis.exceptions import ConnectionError as RedisConnectionError
            from redis.retry import Retry

            self._redis = redis.Redis.from_url(
                redis_url,
                socket_timeout=0.2,
                socket_connect_timeout=0.2,
                # One immediate retry on a broken connection (every pooled one is, after a
                # Redis restart), so that the first lookup after Redis returns is not taken
                # for an outage; none on timeouts, which would double a request's wait.
                retry=Retry(NoBackoff(), 1, (RedisConnectionError,)),
            )

    def _failed(self, exc: Exception) -> None:
        if not self._down:
            log.warning("OCR cache unavailable, computing OCR meanwhile: %s", exc)
        self._down = True
        self._skip_until = time.monotonic() + CACHE_BACKOFF_S

    def _worked(self) -> None:
        if self._down:
            log.info("OCR cache reachable again")
        self._down = False

    def _verified(self, key: str, hit: bytes) -> Words | None:
        """The words an entry holds if a replica signed them for this key; None (counted) for
        anything else: the page is OCRed again and the entry overwritten."""
        assert self._signer is not None
        try:
            words = _cached_words(self._signer.open(key, hit).encode())
        except UnverifiedError as exc:
            log.warning("refused OCR cache entry %s (%s): recomputing it", key, exc.reason)
            self.on_reject()
            return None
        if words is None:
            log.warning("unreadable OCR cache entry %s: recomputing it", key)
        return words

    @property
    def last_call_cached(self) -> bool:
        return bool(getattr(self._local, "cached", False))

    def __call__(self, image: Image.Image) -> Words:
        self._local.cached = False
        use = self._redis is not None and time.monotonic() >= self._skip_until
        key = f"{self._prefix}:{image_sha256(image)}" if use else ""
        if key:
            try:
                hit = self._redis.get(key)
            except Exception as exc:  # cache down: compute, and do not try to store either
                self._failed(exc)
                key = ""
            else:
                self._worked()
                words = self._verified(key, hit) if hit is not None else None
                if words is not None:
                    self._local.cached = True
                    return words
        found = self.engine.recognize(image)
        texts, boxes = [w.text for w in found], [list(w.box) for w in found]
        if key:
            try:
                body = json.dumps({"texts": texts, "boxes": boxes})
                assert self._signer is not None  # a cache exists only with one
                self._redis.set(key, self._signer.seal(key, body), ex=self.ttl)
            except Exception as exc:
                self._failed(exc)
        return texts, boxes
