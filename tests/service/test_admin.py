"""Admin routes: bearer auth (constant-time compare, refused when no token is configured), a
lockout after repeated failures, strictly validated inputs, versioned and audit-logged changes
that the next request uses."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from service.admin_guard import AdminGuard
from tests.service.conftest import TOKEN, assert_problem, png

AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Actor": "alice"}
ROUTES = ("/admin/v1/latency-budget", "/admin/v1/policy")


@pytest.mark.parametrize("path", ROUTES)
def test_auth_cases(client_factory: Callable[..., TestClient], path: str) -> None:
    client = client_factory(admin_max_failures=100)  # the lockout has its own tests
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
    assert entries[0]["field"] == "latency_budget_ms" and entries[0]["new"] == 750
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


def test_audit_is_newest_first_and_limited(client: TestClient) -> None:
    for ms in (100, 200, 300):
        r = client.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": ms})
        assert r.status_code == 200, r.text
    entries = client.get("/admin/v1/audit", headers=AUTH).json()
    assert [e["new"] for e in entries] == [300, 200, 100]
    assert [e["version"] for e in entries] == [3, 2, 1]
    assert [e["old"] for e in entries] == [200, 100, None]
    two = client.get("/admin/v1/audit", headers=AUTH, params={"limit": 2}).json()
    assert [e["new"] for e in two] == [300, 200]
    assert_problem(client.get("/admin/v1/audit", headers=AUTH, params={"limit": 0}), 422)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_guard_counts_failures_in_a_sliding_window_and_locks_for_a_window() -> None:
    clock = Clock()
    guard = AdminGuard(max_failures=3, window_s=60.0, clock=clock)
    assert not guard.failed("a") and not guard.failed("a")
    clock.now += 61  # both are out of the window now
    assert not guard.failed("a") and not guard.failed("a")
    assert guard.locked_for("a") == 0
    assert guard.failed("a")  # the third within 60 s
    assert guard.locked_for("a") == 60.0 and guard.locked_for("b") == 0
    clock.now += 59.5
    assert guard.locked_for("a") == 0.5
    clock.now += 0.5
    assert guard.locked_for("a") == 0
    assert not guard.failed("a")  # a fresh start: the lockout cleared the count


def test_guard_forgets_failures_after_a_success_and_bounds_its_memory() -> None:
    guard = AdminGuard(max_failures=2, window_s=60.0, clock=Clock(), max_clients=100)
    assert not guard.failed("a")
    guard.succeeded("a")
    assert not guard.failed("a")  # the count started again
    for i in range(1000):
        guard.failed(f"10.0.{i // 256}.{i % 256}")
        guard.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(guard._failures) <= 100 and len(guard._locked) <= 100
    assert guard.locked_for("10.0.3.231") > 0  # the latest are kept


def test_repeated_failures_lock_the_client_out_whatever_it_sends(
    client_factory: Callable[..., TestClient],
) -> None:
    client = client_factory(admin_max_failures=3, admin_failure_window_s=0.5)
    other = TestClient(client.app, client=("203.0.113.9", 40000))  # the same app, elsewhere
    bad = {"Authorization": "Bearer wrong-token-wrong-token"}
    path = "/admin/v1/latency-budget"
    assert_problem(client.get(path, headers=bad), 401)
    assert_problem(client.get(path), 401)
    assert client.get(path, headers=AUTH).status_code == 200  # a success resets the count
    for _ in range(3):
        assert_problem(client.get(path, headers=bad), 401)
    # Locked: the right token, a wrong one, none, and a malformed body all answer the same 429.
    answers = [
        client.get(path, headers=AUTH),
        client.get(path, headers=bad),
        client.get(path),
        client.put(path, headers=AUTH, content=b"{not json", params={}),
        client.get("/admin/v1/audit", headers=AUTH),
    ]
    for r in answers:
        body = assert_problem(r, 429)
        assert r.headers["retry-after"] == "1" and body["type"].endswith("too-many-requests")
        assert TOKEN not in r.text and "wrong-token" not in r.text
    assert {r.json()["detail"] for r in answers} == {answers[0].json()["detail"]}
    assert other.get(path, headers=AUTH).status_code == 200  # per client address
    assert client.post("/v1/classify", files={"file": ("p.png", png(), "image/png")}).is_success
    time.sleep(0.55)  # the window passes
    assert client.get(path, headers=AUTH).status_code == 200


def test_the_body_is_not_read_before_authentication(client: TestClient) -> None:
    path = "/admin/v1/latency-budget"
    r = client.put(path, content=b"{not json", headers={"content-type": "application/json"})
    assert_problem(r, 401)  # not a 422 that would tell what the route expects
    r = client.put(path, json={"latency_budget_ms": "x" * 100_000})
    assert_problem(r, 401)  # not a 413 either


BAD_BUDGETS = [
    b'{"latency_budget_ms": -5}',
    b'{"latency_budget_ms": 0}',
    b'{"latency_budget_ms": NaN}',
    b'{"latency_budget_ms": Infinity}',
    b'{"latency_budget_ms": 1e12}',
    b'{"latency_budget_ms": 1000000000000}',
    b'{"latency_budget_ms": 100000000000000000000000000000000000000000}',
    b'{"latency_budget_ms": 750.5}',
    b'{"latency_budget_ms": 750.0}',
    b'{"latency_budget_ms": "750"}',
    b'{"latency_budget_ms": true}',
    b'{"latency_budget_ms": [750]}',
    b'{"latency_budget_ms": 750, "policy": "global"}',
    b'{"budget": 750}',
    b"{}",
    b"750",
    b'"750"',
    b"{not json",
    b"[" * 50_000,
    b'{"latency_budget_ms": 5}\xff',
]


def test_bad_budgets_are_refused(client: TestClient) -> None:
    headers = {**AUTH, "content-type": "application/json"}
    for raw in BAD_BUDGETS:
        r = client.put("/admin/v1/latency-budget", headers=headers, content=raw)
        body = assert_problem(r, 422)
        assert len(body["detail"]) < 2000, raw[:40]  # names the problem, not the whole input
    assert client.get("/admin/v1/latency-budget", headers=AUTH).json()["version"] == 0


BAD_POLICIES: list[object] = [
    "nonsense",
    "full_depth",
    "",
    {"name": "nonsense"},
    {"name": "full_depth"},
    {"tau": 0.5},
    {"name": "global"},
    {"name": "global", "tau": float("nan")},
    {"name": "global", "tau": float("inf")},
    {"name": "global", "tau": -0.1},
    {"name": "global", "tau": 1e12},
    {"name": "global", "tau": "0.5"},
    {"name": "global", "tau": None},
    {"name": "global", "tau": True},
    {"name": "global", "tau": 0.5, "extra": 1},
    {"name": "gate", "tau": "high"},
    {"name": "per_exit", "taus": "vision.1=0.5"},
    {"name": "per_exit", "taus": {"vision.1": "0.5"}},
    {"name": "per_exit", "taus": {"vision.9": 0.5}},
    {"name": "per_exit", "taus": {"vision.1": float("nan")}},
    {"name": "patience", "k": 0},
    {"name": "patience", "k": 1.5},
    {"name": "patience", "k": "2"},
    {"name": "patience", "k": 10**12},
    {"name": "similarity", "image": 0.9},
    {"name": "similarity", "image": 0.9, "text": "x"},
    {"name": "per_exit", "taus": {f"exit.{i}": 0.5 for i in range(400)}},  # 5 KB of JSON
    "global" * 1000,
    ["global"],
    7,
]


def test_bad_policies_are_refused(client: TestClient) -> None:
    headers = {**AUTH, "content-type": "application/json"}
    for policy in BAD_POLICIES:
        raw = json.dumps({"policy": policy}).encode()  # NaN, Infinity as Python's json sends
        r = client.put("/admin/v1/policy", headers=headers, content=raw)
        body = assert_problem(r, 422)
        assert len(body["detail"]) < 5000, repr(policy)[:40]
    assert client.get("/admin/v1/policy", headers=AUTH).json()["version"] == 0


def test_an_oversized_body_is_refused_before_parsing(client: TestClient) -> None:
    raw = json.dumps({"policy": {"name": "global", "tau": 0.5, "pad": "x" * 70_000}}).encode()
    headers = {**AUTH, "content-type": "application/json"}
    body = assert_problem(client.put("/admin/v1/policy", headers=headers, content=raw), 413)
    assert "65536" in body["detail"]


GOOD_POLICIES: list[object] = [
    "auto",
    "card",
    "global",
    None,
    {"name": "global", "tau": 0.5},
    {"name": "global", "tau": 1},
    {"name": "gate", "tau": 0.9},
    {"name": "per_exit", "taus": {"vision.1": 0.9, "mm.3": 0}},
    {"name": "similarity", "image": 0.99, "text": 0.98},
    {"name": "patience", "k": 2},
]


def test_valid_policies_are_taken_and_every_one_serves(client: TestClient) -> None:
    for version, policy in enumerate(GOOD_POLICIES, start=1):
        r = client.put("/admin/v1/policy", headers=AUTH, json={"policy": policy})
        assert r.status_code == 200, (policy, r.text)
        assert r.json()["version"] == version and r.json()["policy"] == policy
        page = client.post("/v1/classify", files={"file": ("p.png", png(), "image/png")})
        assert page.status_code == 200, (policy, page.text)
    r = client.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": None})
    assert r.status_code == 200 and r.json()["latency_budget_ms"] is None


def test_openapi_documents_the_admin_errors_and_the_bearer_scheme(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for path, method in (
        ("/admin/v1/latency-budget", "put"),
        ("/admin/v1/policy", "put"),
        ("/admin/v1/audit", "get"),
    ):
        responses = doc["paths"][path][method]["responses"]
        for status in ("401", "413", "422", "429", "503"):
            assert "application/problem+json" in responses[status]["content"], (path, status)
        assert doc["paths"][path][method]["security"] == [{"HTTPBearer": []}]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
