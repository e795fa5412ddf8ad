"""The admin API of a real `python -m service` (shipped checkpoint) on a real redis-server with
an append-only file: tokens are checked and never written anywhere (its DEBUG log, audit entries,
error bodies), repeated failures lock the client's address out, and the audit trail outlives a
restart of the replica and of Redis. The TestClient cases (input validation, lockout timing)
are in tests/service/test_admin.py."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import SHIPPED, TOKEN, RedisServer, ServiceProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHIPPED / "card.json").exists(), reason="no shipped checkpoint"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]
WRONG = "n0t-the-admin-token-but-just-as-long"
MAX_FAILURES = 3
ATTACKER = "198.51.100.23"  # uvicorn takes X-Forwarded-For from a proxy on 127.0.0.1


def auth(token: str, actor: str = "ops") -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Actor": actor}


def start(redis_url: str, log: Path) -> ServiceProcess:
    service = ServiceProcess(
        log,
        DOCEXIT_REDIS_URL=redis_url,
        DOCEXIT_ADMIN_MAX_FAILURES=str(MAX_FAILURES),
        DOCEXIT_WARMUP_REQUESTS="0",
        DOCEXIT_SHUTDOWN_DRAIN_S="0",
        LOG_LEVEL="DEBUG",
    )
    service.wait_ready()
    return service


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(persist_dir=tmp_path_factory.mktemp("admin-redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def first(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """The replica both tests use; the second stops it (stop() twice is harmless)."""
    service = start(redis_server.url, tmp_path_factory.mktemp("admin") / "first.log")
    yield service
    service.stop()


def assert_problem(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == status and r.json()["detail"]


def test_tokens_are_checked_never_logged_and_failures_lock_the_address_out(
    first: ServiceProcess,
) -> None:
    http = first.http
    answers: list[httpx.Response] = []
    path = "/admin/v1/latency-budget"
    answers.append(http.get(path))
    answers.append(http.put(path, headers=auth(WRONG), json={"latency_budget_ms": 5}))
    r = http.put(path, headers=auth(TOKEN), json={"latency_budget_ms": 1500})
    assert r.status_code == 200 and r.json()["version"] == 1  # and the count starts again
    answers.append(http.get(path, headers={"Authorization": f"Basic {TOKEN}"}))
    for r in answers:
        assert_problem(r, 401)
        assert r.headers["www-authenticate"] == "Bearer"
    policy = {"policy": {"name": "global", "tau": 0.9}}
    r = http.put("/admin/v1/policy", headers=auth(TOKEN, "alice"), json=policy)
    assert r.status_code == 200 and r.json()["version"] == 2

    # Another address guesses: MAX_FAILURES tries, then 429 even for the right token.
    attacker = {"X-Forwarded-For": ATTACKER}
    for _ in range(MAX_FAILURES):
        answers.append(http.get(path, headers={**auth(WRONG), **attacker}))
        assert_problem(answers[-1], 401)
    for headers in (auth(TOKEN), auth(WRONG), {}):
        answers.append(http.get(path, headers={**headers, **attacker}))
        assert_problem(answers[-1], 429)
        assert int(answers[-1].headers["retry-after"]) == 60
    locked = answers[-3:]
    assert len({(r.status_code, r.text) for r in locked}) == 1  # nothing tells them apart
    assert http.get(path, headers=auth(TOKEN)).status_code == 200  # 127.0.0.1 is not locked

    bad = http.put(path, headers=auth(TOKEN), json={"latency_budget_ms": -1})
    assert_problem(bad, 422)
    answers.append(bad)
    audit = http.get("/admin/v1/audit", headers=auth(TOKEN))
    assert audit.status_code == 200
    assert [(e["version"], e["actor"]) for e in audit.json()] == [
        (2, "alice@127.0.0.1"),
        (1, "ops@127.0.0.1"),
    ]

    for text in [r.text for r in answers] + [audit.text]:
        assert TOKEN not in text and WRONG not in text
    written = Path(first.log.name).read_text()  # line-buffered: complete while it runs
    assert "config change" in written and f"admin API locked for {ATTACKER}" in written
    assert "failed admin authentication from 127.0.0.1" in written
    assert TOKEN not in written and WRONG not in written


def test_the_audit_trail_outlives_replica_and_redis_restarts(
    redis_server: RedisServer, first: ServiceProcess, tmp_path: Path
) -> None:
    try:
        before = first.http.get("/admin/v1/audit", headers=auth(TOKEN)).json()
        version = first.http.get("/admin/v1/policy", headers=auth(TOKEN)).json()["version"]
        r = first.http.put(
            "/admin/v1/latency-budget", headers=auth(TOKEN, "bob"), json={"latency_budget_ms": 900}
        )
        assert r.status_code == 200 and r.json()["version"] == version + 1
    finally:
        first.stop()
    expected = [(version + 1, "latency_budget_ms", 900)] + [
        (e["version"], e["field"], e["new"]) for e in before
    ]

    def trail(service: ServiceProcess) -> list[tuple[int, str, object]]:
        r = service.http.get("/admin/v1/audit", headers=auth(TOKEN))
        assert r.status_code == 200, r.text
        return [(e["version"], e["field"], e["new"]) for e in r.json()]

    second = start(redis_server.url, tmp_path / "second.log")  # the replica, restarted
    try:
        assert trail(second) == expected
        redis_server.stop()
        assert_problem(second.http.get("/admin/v1/audit", headers=auth(TOKEN)), 503)
        redis_server.start()  # the same port and the same append-only file
        deadline = time.monotonic() + 5
        while second.http.get("/admin/v1/audit", headers=auth(TOKEN)).status_code != 200:
            assert time.monotonic() < deadline, "the audit trail did not come back with redis"
            time.sleep(0.05)
        assert trail(second) == expected
        view = second.http.get("/admin/v1/latency-budget", headers=auth(TOKEN)).json()
        assert view["version"] == version + 1 and view["latency_budget_ms"] == 900
    finally:
        second.stop()
