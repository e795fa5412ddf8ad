"""Admin routes: bearer auth (constant-time compare, refused when no token is configured),
versioned and audit-logged changes that the next request uses."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import TOKEN, assert_problem, png

AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Actor": "alice"}
ROUTES = ("/admin/v1/latency-budget", "/admin/v1/policy")


@pytest.mark.parametrize("path", ROUTES)
def test_auth_cases(client_factory: Callable[..., TestClient], path: str) -> None:
    client = client_factory()
    assert_problem(client.get(path), 401)
    assert_problem(
        client.get(path, headers={"Authorization": "Bearer wrong-token-wrong-token"}), 401
    )
    assert_problem(client.get(path, headers={"Authorization": f"Basic {TOKEN}"}), 401)
    assert_problem(client.get(path, headers={"Authorization": f"Bearer {TOKEN}x"}), 401)
    r = client.get(path, headers={"Authorization": "Bearer wrong"})
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get(path, headers=AUTH).status_code == 200
    disabled = client_factory(admin_token=None)
    body = assert_problem(disabled.get(path, headers=AUTH), 401)
    assert "DOCEXIT_ADMIN_TOKEN is not set" in body["detail"]
    assert_problem(disabled.put(path, headers=AUTH, json={"latency_budget_ms": 5}), 401)


def test_budget_change_is_versioned_audited_and_used(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    before = client.get("/admin/v1/latency-budget", headers=AUTH).json()
    assert before["version"] == 0 and before["latency_budget_ms"] is None
    with caplog.at_level(logging.INFO, logger="docexit.audit"):
        r = client.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 750})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["version"] == 1 and after["latency_budget_ms"] == 750
    assert after["updated_by"].startswith("alice@") and after["updated_at"]
    audit = [rec.getMessage() for rec in caplog.records if rec.name == "docexit.audit"]
    assert len(audit) == 1 and '"old":null' in audit[0] and '"new":750' in audit[0]
    assert '"actor":"alice@' in audit[0]
    entries = client.get("/admin/v1/audit", headers=AUTH).json()
    assert entries[-1]["field"] == "latency_budget_ms" and entries[-1]["new"] == 750
    body = client.post("/v1/classify", files={"file": ("p.png", png(), "image/png")}).json()
    assert body["policy"]["latency_budget_ms"] == 750
    metrics = client.get("/metrics").text
    assert "docexit_latency_budget_seconds 0.75" in metrics


def test_policy_change_applies_and_bad_policies_are_refused(client: TestClient) -> None:
    r = client.put(
        "/admin/v1/policy", headers=AUTH, json={"policy": {"name": "global", "tau": 0.0}}
    )
    assert r.status_code == 200 and r.json()["version"] == 1
    body = client.post("/v1/classify", files={"file": ("p.png", png(), "image/png")}).json()
    assert body["policy"]["source"] == "admin" and body["exit"]["name"] == "emb.vision_avg"
    assert body["policy"]["thresholds"]["mm.3"] == 0.0
    for bad in ({"name": "global"}, {"name": "nonsense"}, "nonsense"):
        assert_problem(client.put("/admin/v1/policy", headers=AUTH, json={"policy": bad}), 422)
    assert_problem(
        client.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 0}), 422
    )
    assert client.get("/admin/v1/policy", headers=AUTH).json()["version"] == 1  # unchanged
    # A request's own policy still wins over the admin default.
    own = client.post(
        "/v1/classify",
        files={"file": ("p.png", png(), "image/png")},
        data={"policy": '{"name": "global", "tau": 1.1}'},
    ).json()
    assert own["policy"]["source"] == "request" and own["exit"]["name"] == "mm.3"
