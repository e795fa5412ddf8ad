"""Nobody gets in through Redis: with a real redis-server that requires a password, a config or
an OCR cache entry that no replica signed is refused, counted and never used; the replicas keep
serving their last good config, and a valid admin change still reaches both within a second."""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.app import create_app
from service.redis_store import AUDIT, CHANNEL, KEY, RedisAuthError
from service.signing import Signer
from tests.processes import RedisServer
from tests.service.conftest import SIGNING_KEY, TOKEN, FakeOcr, loader_for, make_settings
from tests.service.test_redis import NEVER, classify

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed (make sysdeps)"
)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "redis-password-for-tests"
FORGER = Signer("a-key-that-is-not-the-replicas-shared-one")


@pytest.fixture
def server() -> Iterator[RedisServer]:
    s = RedisServer(password=PASSWORD)
    yield s
    s.stop()


def budget(client: TestClient) -> tuple[int, int | None]:
    body = client.get("/admin/v1/latency-budget", headers=AUTH).json()
    return body["version"], body["latency_budget_ms"]


def rejected(client: TestClient, reason: str) -> float:
    found = re.search(
        rf'^docexit_config_rejected_total{{reason="{reason}"}} (\S+)$',
        client.get("/metrics").text,
        re.M,
    )
    assert found is not None
    return float(found.group(1))


def until(check: Callable[[], bool], what: str, timeout_s: float = 3.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_forged_config_is_refused_and_a_real_change_still_arrives(
    client_factory: Callable[..., TestClient], server: RedisServer
) -> None:
    a = client_factory(redis_url=server.url, redis_resync_s=0.1)
    b = client_factory(redis_url=server.url, redis_resync_s=0.1)
    assert a.put(
        "/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 200}
    ).is_success
    until(lambda: budget(b) == (1, 200), "b never applied the real change")
    trail = a.get("/admin/v1/audit", headers=AUTH).json()
    raw = redis.Redis.from_url(server.url)
    forged = {"version": 99, "latency_budget_ms": 1, "policy": None}
    # Plain JSON, as an unsigned writer would put it; then an envelope under another key.
    for value, reason in (
        (json.dumps(forged), "malformed"),
        (FORGER.seal(KEY, json.dumps(forged)), "signature"),
    ):
        raw.set(KEY, value)
        raw.publish(CHANNEL, value)
        for replica in (a, b):
            until(
                lambda r=replica, why=reason: rejected(r, why) == 1.0,
                f"no {reason} refusal counted",
            )
            assert budget(replica) == (1, 200)  # the budget in force is unchanged
            assert "refused the config in redis" in replica.get("/readyz").json()["config_store"]
    assert classify(a, policy=NEVER)["policy"]["latency_budget_ms"] == 200  # type: ignore[index]
    assert a.get("/admin/v1/audit", headers=AUTH).json() == trail  # the audit is unchanged
    r = b.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 300})
    assert r.json()["version"] == 2  # built on the good config, not on the forged version 99
    changed = time.monotonic()
    until(lambda: budget(a) == (2, 300), "a never applied the valid change")
    assert time.monotonic() - changed < 1.0
    assert "in sync" in a.get("/readyz").json()["config_store"]


def test_an_older_signed_config_put_back_is_refused_and_overwritten(
    client_factory: Callable[..., TestClient], server: RedisServer
) -> None:
    a = client_factory(redis_url=server.url, redis_resync_s=0.1)
    raw = redis.Redis.from_url(server.url)
    a.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 100})
    old = raw.get(KEY)
    a.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 200})
    raw.set(KEY, old)  # a replay of version 1, validly signed
    until(lambda: rejected(a, "version") == 1.0, "the rollback was not refused")
    assert budget(a) == (2, 200)
    until(lambda: json.loads(json.loads(raw.get(KEY))["body"])["version"] == 2, "not restored")


def test_audit_entries_that_do_not_verify_are_marked(
    client_factory: Callable[..., TestClient], server: RedisServer
) -> None:
    a = client_factory(redis_url=server.url)
    a.put("/admin/v1/latency-budget", headers=AUTH, json={"latency_budget_ms": 100})
    entry = {"version": 7, "field": "policy", "old": None, "new": "x", "actor": "ops", "at": "now"}
    redis.Redis.from_url(server.url).lpush(AUDIT, json.dumps(entry))
    newest, real = a.get("/admin/v1/audit", headers=AUTH).json()
    assert newest["actor"] == "ops" and newest["verified"] is False
    assert real["new"] == 100 and real["verified"] is True


def test_a_forged_ocr_cache_entry_is_recomputed_never_used(
    client_factory: Callable[..., TestClient], server: RedisServer
) -> None:
    ocr = FakeOcr()
    client = client_factory(ocr=ocr, redis_url=server.url)
    reference = classify(client, policy=NEVER)  # an empty cache: OCR computed, then stored
    raw = redis.Redis.from_url(server.url)
    keys = raw.keys("docexit:ocr:fake:*")
    assert keys  # keyed by engine, its version and the page
    lies = json.dumps({"texts": ["résumé"] * 40, "boxes": [[0, 0, 9, 9]] * 40})
    for key in keys:
        raw.set(key, FORGER.seal(key.decode(), lies))
    calls = ocr.calls
    again = classify(client, policy=NEVER)
    assert ocr.calls > calls  # recomputed
    for field in ("label", "confidence", "top_k", "exit"):
        assert again[field] == reference[field]
    counted = re.search(
        r"^docexit_ocr_cache_rejected_total (\S+)$", client.get("/metrics").text, re.M
    )
    assert counted is not None and float(counted.group(1)) >= 1


def test_a_redis_url_without_the_password_fails_at_start(
    server: RedisServer, checkpoint_dir: Path
) -> None:
    app = create_app(
        make_settings(checkpoint_dir, redis_url=server.bare_url), loader_for(FakeOcr())
    )
    with pytest.raises(RedisAuthError, match="redis://USER:PASSWORD@HOST"), TestClient(app):
        pass


def test_redis_needs_a_signing_key_of_its_own(checkpoint_dir: Path) -> None:
    url = "redis://docexit:pw@127.0.0.1:1/0"
    with pytest.raises(ValidationError, match="DOCEXIT_CONFIG_SIGNING_KEY is not"):
        make_settings(checkpoint_dir, redis_url=url, config_signing_key=None)
    with pytest.raises(ValidationError, match="at least 32"):
        make_settings(checkpoint_dir, redis_url=url, config_signing_key="short")
    with pytest.raises(ValidationError, match="differ from DOCEXIT_ADMIN_TOKEN"):
        make_settings(checkpoint_dir, admin_token=SIGNING_KEY)


def test_the_redis_password_never_reaches_the_logs(
    server: RedisServer, checkpoint_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(checkpoint_dir, redis_url=server.url)
    assert PASSWORD not in repr(settings) and "docexit:***@" in str(settings.redis_url_redacted)
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings, loader_for(FakeOcr()))) as client:
        until(lambda: client.get("/readyz").status_code == 200, "not ready", 30)
    assert "docexit:***@127.0.0.1" in caplog.text and PASSWORD not in caplog.text


def test_an_empty_rotation_key_is_unset(checkpoint_dir: Path) -> None:
    settings = make_settings(checkpoint_dir, config_signing_key_previous="")
    assert settings.config_signing_key_previous is None and settings.signer() is not None
    with pytest.raises(ValidationError, match="_PREVIOUS must be at least 32"):
        make_settings(checkpoint_dir, config_signing_key_previous="short")
