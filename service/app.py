"""The FastAPI application: create_app() builds it, its lifespan loads and warms the model in
the background (so /livez answers at once and /readyz says 503 until the model is ready)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import torch
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.batched import Kind, OnBatch, PassStats
from models.checkpoint import read_card
from service import errors
from service.admin_guard import AdminGuard
from service.budget import resolve, thresholds_of
from service.config_store import make_store
from service.docs import install_docs
from service.engine import Engine
from service.guarantee import epsilon_in_force
from service.lifecycle import install_drain
from service.metrics import Metrics, mark_process_dead
from service.ocr_cache import CachedOcr
from service.playground import install_playground
from service.pool import WorkQueue
from service.precedence import in_force
from service.pressure import Backlog, target_of
from service.routes import admin, classify, extract, health, shadow
from service.settings import Settings, usable_cores
from service.shadow import ShadowLane
from service.state import ServiceState, state_of

log = logging.getLogger("docexit.service")
Loader = Callable[[Settings], Engine]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
FORM_OVERHEAD = 2 * 1024 * 1024  # multipart framing and text fields (client OCR) on top


class RequestContext:
    """Stamps each request with its start time and id (X-Request-ID echoed or minted), and
    counts classify requests by status and in flight for the metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["start"], state["request_id"] = time.perf_counter(), rid
        counted = scope["path"] == "/v1/classify"
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        if counted:
            self.metrics.inflight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if counted:
                self.metrics.inflight.dec()
                self.metrics.requests.labels(status=str(status)).inc()


# The rest of an over-limit body is never read, so its connection cannot carry another
# request; closing it is also what stops the upload: kept open, the server would read (and
# drop) every remaining byte of a body of any size to reach the next request.
CLOSE = {"Connection": "close"}


class BodyLimit:
    """Refuses request bodies over the limit as problem+json 413: at once from Content-Length,
    or while streaming for chunked uploads (before multipart parsing spools them to disk); the
    answer closes the connection."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            request = Request(scope)
            response = errors.problem_response(
                request,
                413,
                "too-large",
                "Upload too large",
                f"the request body is {int(declared)} bytes; the limit is {self.max_bytes}",
                CLOSE,
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise errors.ProblemError(
                        413,
                        "too-large",
                        "Upload too large",
                        f"the request body is over {self.max_bytes} bytes",
                        headers=CLOSE,
                    )
            return message

        await self.app(scope, counted, send)


def _publisher(state: ServiceState) -> Callable[[], None]:
    def publish() -> None:
        """Mirror the default budget and policy in force into the gauges."""
        config, settings, metrics = state.store.current(), state.settings, state.metrics
        default = in_force(settings, config)  # what a request that sends neither gets
        metrics.budget.set((default.budget_ms or 0) / 1000.0)
        metrics.store_up.set(1 if state.store.healthy else 0)
        metrics.config_version.set(config.version)
        # 0 without a certificate: the shadow loss alert (deploy/prometheus) then stands down.
        metrics.certified_epsilon.set(epsilon_in_force(state.card, default.epsilon) or 0.0)
        engine = state.engine
        if engine is None:
            return
        try:
            epsilon = epsilon_in_force(engine.card, default.epsilon)
            choice = resolve(
                default.spec,
                default.source,
                default.budget_ms,
                engine.card,
                engine.latency,
                epsilon,
            )
        except errors.ProblemError as exc:
            log.warning("default policy %r cannot be resolved: %s", default.spec, exc.detail)
            return
        for name, tau in thresholds_of(choice, engine.exits).items():
            metrics.threshold.labels(exit=name).set(tau)
        budget_s = None if default.budget_ms is None else default.budget_ms / 1000.0
        bound = engine.prices.bound(choice)
        target = target_of(bound, budget_s, settings.degrade_target_s)
        metrics.pressure_budget.set(max(0.0, target - state.backlog.wait_s()))

    return publish


def _batch_metrics(state: ServiceState) -> OnBatch:
    m = state.metrics

    def observe(stream: Kind, stats: PassStats) -> None:
        m.batch_pages.labels(stream=stream).observe(stats.pages)
        run = stats.layer_rows
        m.batch_layer_pages.labels(stream=stream, work="run").inc(run)
        m.batch_layer_pages.labels(stream=stream, work="saved").inc(stats.full_rows - run)

    return observe


async def _load(state: ServiceState, loader: Loader) -> None:
    settings = state.settings
    try:
        state.detail = f"loading checkpoint {settings.checkpoint}"
        engine = await asyncio.to_thread(loader, settings)
        if engine.device == "cpu":
            # The pool runs one page per core: one torch thread each avoids oversubscription.
            # Batched, the encoder runs on the batcher's one thread, which gets every core.
            batched = engine.batcher is not None
            torch.set_num_threads(
                usable_cores() if batched else max(1, usable_cores() // settings.workers)
            )
        if engine.batcher is not None:
            engine.batcher.on_batch = _batch_metrics(state)
        if isinstance(engine.ocr, CachedOcr):  # forged cache entries, counted as refused
            engine.ocr.on_reject = state.metrics.ocr_cache_rejected.inc
        state.detail = "warming up"
        await asyncio.to_thread(engine.warm_up, settings.warmup_requests)
        state.engine, state.ready = engine, True
        state.shadow.start(engine)
        state.detail = f"model {engine.name} {engine.version} loaded and warmed on {engine.device}"
        state.publish_config()
        log.info("ready: %s", state.detail)
    except Exception as exc:
        state.detail = f"model failed to load: {exc}"
        log.exception("model failed to load")


async def _refresh(state: ServiceState) -> None:
    """Replicas learn of changes through the store; the gauges follow within a second."""
    while True:
        await asyncio.sleep(1.0)
        try:
            state.publish_config()
        except Exception:  # a gauge update must never end the loop that keeps them current
            log.exception("publishing the config gauges failed")


def create_app(settings: Settings | None = None, loader: Loader | None = None) -> FastAPI:
    settings = settings or Settings()
    card = read_card(Path(settings.checkpoint))
    metrics = Metrics(card.model_shape().num_layers, settings.prometheus_multiproc_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = state_of(app)
        uninstall_drain = install_drain(state, settings.shutdown_drain_s)
        if settings.redis_url:
            log.info("config store and OCR cache: redis at %s", settings.redis_url_redacted)
        try:
            await state.store.start()  # wrong Redis credentials end the start-up here
        except Exception:
            uninstall_drain()
            raise
        tasks = [
            asyncio.create_task(_load(state, loader or Engine.load), name="docexit-load"),
            asyncio.create_task(_refresh(state), name="docexit-refresh"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await state.store.stop()
            state.shadow.stop()
            state.queue.shutdown()
            if state.engine is not None:
                state.engine.close()
            uninstall_drain()
            mark_process_dead(os.getpid(), settings.prometheus_multiproc_dir)

    app = FastAPI(
        title="docexit",
        summary="Scanned-page classification (RVL-CDIP classes) with calibrated early exits",
        version=card.version or "0",
        lifespan=lifespan,
        responses=errors.responses(500),
        docs_url=None,  # install_docs serves them on the package's own assets
        redoc_url=None,
    )
    # Batched, a page's thread mostly waits (for OCR slots, for its batch): a batch can only
    # fill if that many pages are in flight.
    threads = max(settings.workers, settings.max_batch)
    pool = WorkQueue(threads, settings.queue_size, settings.retry_after_s)
    state = ServiceState(
        settings=settings,
        card=card,
        metrics=metrics,
        store=make_store(
            settings.redis_url,
            settings.redis_resync_s,
            settings.signer(),
            lambda reason: metrics.config_rejected.labels(reason=reason).inc(),
        ),
        queue=pool,
        admin_guard=AdminGuard(settings.admin_max_failures, settings.admin_failure_window_s),
        shadow=ShadowLane(settings, metrics, card.exits, lambda: pool.busy),
        backlog=Backlog(settings.workers),
    )
    state.publish_config = _publisher(state)
    app.state.service = state  # the one thing on app.state; read it through state_of(app)
    errors.install(app)
    install_docs(app)
    install_playground(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes + FORM_OVERHEAD)
    app.add_middleware(RequestContext, metrics=metrics)
    app.include_router(classify.router)
    app.include_router(extract.router)
    app.include_router(admin.router)
    app.include_router(shadow.router)
    app.include_router(health.router)
    return app
