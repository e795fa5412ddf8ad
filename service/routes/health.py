"""Probes, the model card and the metrics scrape."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from models.card import as_written
from service import errors
from service.config_store import RuntimeConfig
from service.deps import EngineDep, MetricsDep, QueueDep, StoreDep
from service.document import pool_of
from service.engine import Engine
from service.guarantee import epsilon_in_force
from service.precedence import in_force
from service.schemas import CertificationView, CertifiedPointView, Health, ModelCard
from service.state import state_of

router = APIRouter(tags=["operations"])


@router.get("/livez", response_model=Health)
async def livez() -> Health:
    """The process answers; says nothing about the model (see /readyz)."""
    return Health(status="ok", detail="alive")


@router.get("/readyz", response_model=Health, responses=errors.responses(503))
async def readyz(request: Request, store: StoreDep) -> Health:
    """200 once the model is loaded and warmed, 503 again while draining for a shutdown; the
    detail also says how the config store is."""
    state = state_of(request.app)
    if state.draining:
        raise errors.not_ready(
            f"draining: shutting down, {state.queue.pending} request(s) in flight"
        )
    if not state.ready:
        raise errors.not_ready(state.detail)
    return Health(status="ok", detail=state.detail, config_store=store.detail)


@router.get("/v1/model", response_model=ModelCard, responses=errors.responses(503))
async def model(engine: EngineDep, store: StoreDep) -> ModelCard:
    card = engine.card
    return ModelCard(
        name=engine.name,
        version=engine.version,
        labels=engine.labels,
        exits=engine.exits,
        temperatures=card.temperatures,
        thresholds=card.thresholds,
        policy=None if card.policy is None else card.policy.spec(),
        operating_points=[as_written(p) for p in card.operating_points],
        latency={} if card.latency is None else as_written(card.latency),
        live_latency_s=engine.latency.snapshot(),
        device=engine.device,
        ocr_engine=engine.settings.ocr_engine,
        certification=certification_view(engine, store.current()),
        abstention=None if card.abstention is None else as_written(card.abstention),
        decoder=None if card.decoder is None else as_written(card.decoder),
        document=pool_of(engine).model_dump(mode="json"),
    )


def certification_view(engine: Engine, config: RuntimeConfig) -> CertificationView | None:
    """The card's certificate at the ε in force: each tested point's p-value and verdict."""
    card = engine.card
    cert = card.certification
    if cert is None:
        return None
    epsilon = epsilon_in_force(card, in_force(engine.settings, config).epsilon)
    assert epsilon is not None  # a certified card always has one
    certified = cert.certified_count(epsilon)
    return CertificationView(
        epsilon=epsilon,
        card_epsilon=cert.epsilon,
        delta=cert.delta,
        risk=cert.risk,
        reference=cert.reference,
        calibration_pages=cert.pages,
        data=cert.data,
        points=[
            CertifiedPointView(
                policy=t.policy.spec(), risky_pages=t.risky, p_value=p, certified=i < certified
            )
            for i, (t, p) in enumerate(zip(cert.tested, cert.p_values(epsilon), strict=True))
        ],
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request, metrics: MetricsDep, queue: QueueDep) -> Response:
    # The config gauges follow the store every second anyway (app._refresh); a scrape right
    # after a change another replica made must not read the old budget and thresholds.
    state_of(request.app).publish_config()
    metrics.queue_depth.set(queue.waiting)
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
