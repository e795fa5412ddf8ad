"""Operator routes on the shadow lane (service.shadow): what it measured, and the certificate
recomputed on its records.

POST /admin/v1/recertify tests the card's operating points again, in the order the card's
certificate tested them (fixed before any page was seen, so the test stays valid), on the shadow
records instead of the calibration pages: there are no labels there, so the risk is
disagreement with full depth (what the shadow's run to the end answers), which bounds the
accuracy lost from above.
It shows the points certified at ε; only with "apply": true does it set the cheapest of them
as the runtime policy, through the audited path of PUT /admin/v1/policy."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from models.card import Card, Certification, OperatingPoint
from models.certify import certify, cheapest
from models.ltt import binomial_p_value
from models.traces import Trace
from service import errors
from service.deps import AdminDep, StoreDep
from service.guarantee import epsilon_in_force
from service.precedence import in_force
from service.routes.admin import AdminRoute, change, check_policy
from service.state import state_of

router = APIRouter(
    prefix="/admin/v1",
    tags=["admin"],
    route_class=AdminRoute,  # authenticates before the body is read, as every admin route
    responses=errors.responses(400, 401, 413, 422, 429, 503),
)


class ExitAgreement(BaseModel):
    pairs: int
    agree: int
    disagreement: float = Field(description="share of this exit's pairs that disagree")


class ShadowView(BaseModel):
    rate: float = Field(description="share of answered requests re-run (DOCEXIT_SHADOW_RATE)")
    pairs: int = Field(description="requests re-run since this process started")
    disagreements: int
    loss_estimate: float | None = Field(
        description="share of pairs whose answers differ: an upper bound on the accuracy early "
        "exits lost on this traffic; null before the first pair"
    )
    epsilon: float | None = Field(description="the ε in force; null: no certificate")
    per_exit: dict[str, ExitAgreement] = Field(description="by the live answer's exit")
    dropped: dict[str, int] = Field(description="sampled but not re-run, by reason")
    unreproduced: int = Field(
        description="pairs whose trace, under the live policy, does not give the live exit and "
        "class (should stay 0: the live run and its shadow read different words)"
    )
    queued: int
    records_kept: int = Field(description="the latest records, for POST /admin/v1/recertify")
    records_limit: int


class RecertifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epsilon: float | None = Field(
        default=None, gt=0, lt=1, strict=True, description="null: the ε in force"
    )
    delta: float | None = Field(
        default=None, gt=0, lt=1, strict=True, description="null: the certificate's δ"
    )
    apply: bool = Field(
        default=False,
        strict=True,
        description="set the cheapest certified point as the runtime policy (audited)",
    )


class RecertifiedPoint(BaseModel):
    policy: dict[str, Any]
    risky_pages: int = Field(description="shadow records on which its answer differs")
    p_value: float
    certified: bool


class Recertification(BaseModel):
    records: int = Field(description="shadow records tested on")
    min_records: int = Field(description="fewest records on which any point can be certified")
    epsilon: float
    delta: float
    risk: Literal["disagreement"] = "disagreement"
    reference: Literal["full_depth"] = "full_depth"
    points: list[RecertifiedPoint] = Field(description="in the certificate's testing order")
    cheapest: dict[str, Any] | None = Field(description="of the certified points, end to end")
    applied: bool
    config_version: int = Field(description="the runtime config version after this call")


def min_records(epsilon: float, delta: float) -> int:
    """The fewest records on which a point with no risky record is certified: below it, the
    test can certify nothing, whatever the records say."""
    n = max(1, math.ceil(math.log(delta) / math.log1p(-epsilon)))
    while binomial_p_value(0, n, epsilon) > delta:  # floating point at the boundary
        n += 1
    return n


def tested_points(card: Card, cert: Certification) -> list[OperatingPoint]:
    """The card's operating points in the order its certificate tested them."""
    by_spec = {json.dumps(p.policy.spec(), sort_keys=True): p for p in card.operating_points}
    return [by_spec[json.dumps(t.policy.spec(), sort_keys=True)] for t in cert.tested]


def conflict(slug: str, title: str, detail: str) -> errors.ProblemError:
    return errors.ProblemError(409, slug, title, detail)


def recertified(
    card: Card, traces: list[Trace], epsilon: float, delta: float
) -> tuple[list[RecertifiedPoint], OperatingPoint | None]:
    """Blocking (a policy per point over every record): the points and the cheapest certified."""
    assert card.certification is not None
    ordered = tested_points(card, card.certification)
    fresh = certify(ordered, traces, None, epsilon, delta, ["shadow"])
    count, p_values = fresh.certified_count(), fresh.p_values()
    points = [
        RecertifiedPoint(
            policy=t.policy.spec(), risky_pages=t.risky, p_value=p, certified=i < count
        )
        for i, (t, p) in enumerate(zip(fresh.tested, p_values, strict=True))
    ]
    certified = [p for p in ordered if p.policy.build() is not None][:count]
    return points, cheapest(certified)


@router.get("/shadow", response_model=ShadowView)
async def get_shadow(request: Request, _actor: AdminDep) -> ShadowView:
    """The shadow lane's counts since this process started (each replica has its own; the
    metrics docexit_shadow_total add them up)."""
    state = state_of(request.app)
    config = in_force(state.settings, state.store.current())
    epsilon = epsilon_in_force(state.card, config.epsilon)
    return ShadowView.model_validate(state.shadow.summary() | {"epsilon": epsilon})


@router.post("/recertify", response_model=Recertification, responses=errors.responses(409))
async def recertify(
    request: Request, body: RecertifyBody, store: StoreDep, actor: AdminDep
) -> Recertification:
    """409 without a certificate on the card (no testing order to follow), with fewer records
    than any point could be certified on, or, to apply, with no point certified."""
    state = state_of(request.app)
    card, cert = state.card, state.card.certification
    if cert is None:
        raise conflict(
            "no-certificate",
            "No certificate",
            "the checkpoint carries no certificate (models.certify): there is no testing order "
            "fixed before the records were seen, so nothing can be certified on them",
        )
    epsilon = body.epsilon or epsilon_in_force(
        card, in_force(state.settings, store.current()).epsilon
    )
    delta = body.delta or cert.delta
    assert epsilon is not None  # the card has a certificate
    traces = [r.trace for r in state.shadow.records()]
    need = min_records(epsilon, delta)
    if len(traces) < need:
        raise conflict(
            "too-few-shadow-records",
            "Too few shadow records",
            f"{len(traces)} shadow records kept; at ε={epsilon:g}, δ={delta:g} no point can be "
            f"certified on fewer than {need} (DOCEXIT_SHADOW_RATE sets how many requests are "
            "re-run, DOCEXIT_SHADOW_KEEP how many are kept)",
        )
    points, best = await asyncio.to_thread(recertified, card, traces, epsilon, delta)
    if body.apply:
        if best is None:
            raise conflict(
                "nothing-certified",
                "No point certified",
                f"no operating point is certified at ε={epsilon:g}, δ={delta:g} on "
                f"{len(traces)} shadow records: the policy in force is left as it is",
            )
        spec = best.policy.spec()
        check_policy(spec, card)
        await change(request, store, "policy", spec, actor)
    return Recertification(
        records=len(traces),
        min_records=need,
        epsilon=epsilon,
        delta=delta,
        points=points,
        cheapest=None if best is None else best.policy.spec(),
        applied=body.apply,
        config_version=store.current().version,
    )
