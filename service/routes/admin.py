"""Operator routes: the default latency budget and policy, changed live, versioned, audited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from service import errors
from service.budget import check_spec
from service.config_store import AuditEntry, ConfigStore, StoreUnavailableError
from service.deps import AdminDep, StoreDep
from service.schemas import BudgetBody, ConfigView, PolicyBody

router = APIRouter(prefix="/admin/v1", tags=["admin"], responses=errors.responses(401, 422, 503))


def view(store: ConfigStore) -> ConfigView:
    c = store.current()
    return ConfigView(
        version=c.version,
        latency_budget_ms=c.latency_budget_ms,
        policy=c.policy,
        updated_at=c.updated_at,
        updated_by=c.updated_by,
        store=store.backend,
        store_healthy=store.healthy,
    )


async def change(request: Request, store: ConfigStore, field: Any, value: Any, actor: str) -> None:
    try:
        await store.update(field, value, actor)
    except StoreUnavailableError as exc:
        raise errors.ProblemError(
            503,
            "config-store-unavailable",
            "Config store unavailable",
            f"the change was not applied: {exc}",
            headers={"Retry-After": "1"},
        ) from exc
    request.app.state.publish_config()


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
    check_spec(body.policy, request.app.state.card)
    await change(request, store, "policy", body.policy, actor)
    return view(store)


@router.get("/audit", response_model=list[AuditEntry])
async def get_audit(store: StoreDep, _actor: AdminDep) -> list[AuditEntry]:
    """Changes this process has seen made through it (every replica logs its own)."""
    return store.audit()
