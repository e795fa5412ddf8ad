"""Operator routes: the default latency budget and policy, changed live, versioned, audited.

Every route authenticates before its body is read (AdminRoute): a caller without the token, or
one locked out after too many failures, gets its 401/429 whatever it sent, and no validation
answers. Inputs are checked strictly, since a default policy that a request cannot run would
fail every request that uses it."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute

from models.card import Card
from service import errors
from service.admin_guard import authenticate
from service.budget import check_spec
from service.config_store import AUDIT_KEEP, AuditEntry, ConfigStore, StoreUnavailableError
from service.deps import AdminDep, StoreDep
from service.schemas import BudgetBody, ConfigView, DegradeBody, EpsilonBody, PolicyBody
from service.state import state_of

MAX_BODY = 64 * 1024  # bytes of an admin request body; a budget or a policy is far smaller
MAX_POLICY_JSON = 4096  # bytes of a policy spec as JSON; the card's largest is about 700


class AdminRoute(APIRoute):
    """Authenticates (and applies the lockout) before FastAPI reads and validates the body,
    then refuses bodies over MAX_BODY (413) and JSON nested deeper than the parser can go."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            await authenticate(request)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY:
                raise errors.too_large(f"an admin request body is at most {MAX_BODY} bytes")
            body = await request.body()  # cached on the request: FastAPI reads it from there
            if len(body) > MAX_BODY:
                raise errors.too_large(f"an admin request body is at most {MAX_BODY} bytes")
            if body:
                try:
                    await request.json()  # cached too; FastAPI answers a malformed body (422)
                except RecursionError as exc:  # json raises it, not a ValueError, on [[[[...
                    raise errors.invalid("the JSON body is nested too deeply") from exc
                except UnicodeDecodeError as exc:  # FastAPI would answer an undocumented 400
                    raise errors.invalid("the body is not UTF-8 JSON") from exc
                except ValueError:
                    pass
            return await handler(request)

        return guarded


router = APIRouter(
    prefix="/admin/v1",
    tags=["admin"],
    route_class=AdminRoute,
    # 400: a body FastAPI cannot even decode (JSON that is not UTF-8); malformed JSON is a 422.
    responses=errors.responses(400, 401, 413, 422, 429, 503),
)


def check_policy(spec: str | dict[str, Any] | None, card: Card) -> None:
    """422 unless every request could run this policy: a known family with an operating point
    on the card, or an explicit policy whose knobs have the right types and ranges and whose
    per-exit thresholds name the card's exits."""
    size = len(json.dumps(spec))
    if size > MAX_POLICY_JSON:
        raise errors.invalid(f"the policy is {size} bytes of JSON; the limit is {MAX_POLICY_JSON}")
    check_spec(spec, card, ("body", "policy"))


def view(store: ConfigStore) -> ConfigView:
    c = store.current()
    return ConfigView(
        version=c.version,
        latency_budget_ms=c.latency_budget_ms,
        policy=c.policy,
        epsilon=c.epsilon,
        degrade=c.degrade,
        updated_at=c.updated_at,
        updated_by=c.updated_by,
        store=store.backend,
        store_healthy=store.healthy,
    )


def unavailable(exc: StoreUnavailableError, what: str) -> errors.ProblemError:
    return errors.ProblemError(
        503,
        "config-store-unavailable",
        "Config store unavailable",
        f"{what}: {exc}",
        headers={"Retry-After": "1"},
    )


async def change(request: Request, store: ConfigStore, field: Any, value: Any, actor: str) -> None:
    try:
        await store.update(field, value, actor)
    except StoreUnavailableError as exc:
        raise unavailable(exc, "the change was not applied") from exc
    state_of(request.app).publish_config()


@router.get("/latency-budget", response_model=ConfigView)
async def get_budget(store: StoreDep, _actor: AdminDep) -> ConfigView:
    return view(store)


@router.put("/latency-budget", response_model=ConfigView)
async def put_budget(
    request: Request, body: BudgetBody, store: StoreDep, actor: AdminDep
) -> ConfigView:
    await change(request, store, "latency_budget_ms", body.latency_budget_ms, actor)
    return view(store)


@router.get("/policy", response_model=ConfigView)
async def get_policy(store: StoreDep, _actor: AdminDep) -> ConfigView:
    return view(store)


@router.put("/policy", response_model=ConfigView)
async def put_policy(
    request: Request, body: PolicyBody, store: StoreDep, actor: AdminDep
) -> ConfigView:
    check_policy(body.policy, state_of(request.app).card)
    await change(request, store, "policy", body.policy, actor)
    return view(store)


@router.get("/epsilon", response_model=ConfigView)
async def get_epsilon(store: StoreDep, _actor: AdminDep) -> ConfigView:
    return view(store)


@router.put("/epsilon", response_model=ConfigView, responses=errors.responses(409))
async def put_epsilon(
    request: Request, body: EpsilonBody, store: StoreDep, actor: AdminDep
) -> ConfigView:
    """The tolerated accuracy loss of early exits: the auto policy then picks among the points
    certified at it (GET /v1/model lists them). 409 on a checkpoint without a certificate,
    where it would change nothing."""
    if body.epsilon is not None and state_of(request.app).card.certification is None:
        raise errors.ProblemError(
            409,
            "no-certificate",
            "No certificate",
            "the checkpoint carries no certificate (models.certify), so no ε can pick a point",
        )
    await change(request, store, "epsilon", body.epsilon, actor)
    return view(store)


@router.get("/degrade", response_model=ConfigView)
async def get_degrade(store: StoreDep, _actor: AdminDep) -> ConfigView:
    return view(store)


@router.put("/degrade", response_model=ConfigView)
async def put_degrade(
    request: Request, body: DegradeBody, store: StoreDep, actor: AdminDep
) -> ConfigView:
    """Under load, answer shallower before refusing (service.pressure): false turns it off, so
    that every answer runs its policy and the work queue's cap alone sheds load; null: the
    settings' DOCEXIT_DEGRADE."""
    await change(request, store, "degrade", body.degrade, actor)
    return view(store)


@router.get("/audit", response_model=list[AuditEntry])
async def get_audit(
    store: StoreDep,
    _actor: AdminDep,
    limit: Annotated[int, Query(ge=1, le=AUDIT_KEEP, description="entries, newest first")] = 100,
) -> list[AuditEntry]:
    """The latest changes, newest first. With DOCEXIT_REDIS_URL: every replica's changes, from
    the list they share in Redis (so a restarted replica, or a Redis restarted with its data,
    still shows them), and 503 while Redis is unreachable rather than a partial answer; without
    it, the changes made through this process since it started."""
    try:
        return await store.audit(limit)
    except StoreUnavailableError as exc:
        raise unavailable(exc, "the audit trail cannot be read") from exc
